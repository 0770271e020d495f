using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Engine.Codec.Tests;

/// <summary>nginx with Debian's RTMP module (libnginx-mod-rtmp) on a free loopback port, for the play client's live test.</summary>
internal sealed class LocalNginxRtmp : IDisposable
{
    private const string Module = "/usr/lib/nginx/modules/ngx_rtmp_module.so";
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-nginx-play-").FullName;
    private readonly Process _process;

    public LocalNginxRtmp()
    {
        if (!File.Exists(Module))
            throw new InvalidOperationException($"{Module} missing: apt-get install nginx libnginx-mod-rtmp");
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        File.WriteAllText(Path.Combine(_dir, "nginx.conf"), $$"""
            load_module {{Module}};
            daemon off;
            master_process off;
            pid {{_dir}}/nginx.pid;
            error_log {{_dir}}/error.log info;
            events { worker_connections 64; }
            rtmp {
                server {
                    listen 127.0.0.1:{{Port}};
                    application live { live on; record off; }
                }
            }
            """);
        var psi = new ProcessStartInfo("nginx", $"-p {_dir} -c {_dir}/nginx.conf -e {_dir}/error.log") { UseShellExecute = false, RedirectStandardError = true };
        _process = Process.Start(psi)!;
        for (int i = 0; i < 100; i++)
        {
            if (_process.HasExited)
                throw new InvalidOperationException("nginx exited: " + _process.StandardError.ReadToEnd());
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new InvalidOperationException("nginx did not listen on " + Port);
    }

    public int Port { get; }
    public string Url(string stream) => $"rtmp://127.0.0.1:{Port}/live/{stream}";

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
