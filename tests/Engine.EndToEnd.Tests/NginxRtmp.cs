using System.Diagnostics;

namespace Engine.EndToEnd.Tests;

/// <summary>nginx with Debian's RTMP module on a loopback port of its own; can be killed and restarted on the same port.</summary>
internal sealed class NginxRtmp : IDisposable
{
    private const string Module = "/usr/lib/nginx/modules/ngx_rtmp_module.so";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "engine-nginx-" + Guid.NewGuid().ToString("n")[..8]);
    private Process? _process;
    public readonly int Port = Tools.FreeTcpPort();
    private readonly string _address;

    /// <param name="address">Where it listens: loopback, or a namespace veth's host end for an engine inside.</param>
    public NginxRtmp(string address = "127.0.0.1")
    {
        _address = address;
        if (!File.Exists(Module))
            throw new InvalidOperationException($"{Module} missing: apt-get install nginx libnginx-mod-rtmp");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "nginx.conf"), $$"""
            load_module {{Module}};
            daemon off;
            master_process off;
            pid {{_dir}}/nginx.pid;
            error_log {{_dir}}/error.log info;
            events { worker_connections 64; }
            rtmp {
                server {
                    listen {{address}}:{{Port}};
                    application live { live on; record off; }
                }
            }
            """);
        Start();
    }

    public string Url(string stream) => $"rtmp://{_address}:{Port}/live/{stream}";
    public string BaseUrl => $"rtmp://{_address}:{Port}/live";

    /// <summary>nginx's log (info level: connect, publish, deleteStream, disconnect per client).</summary>
    public string ErrorLog
    {
        get
        {
            using var f = new FileStream(Path.Combine(_dir, "error.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return new StreamReader(f).ReadToEnd();
        }
    }

    public void Start()
    {
        var psi = new ProcessStartInfo(Tools.Require("nginx"), $"-p {_dir} -c {_dir}/nginx.conf -e {_dir}/error.log") { UseShellExecute = false, RedirectStandardError = true };
        _process = Process.Start(psi)!;
        for (int i = 0; i < 100; i++)
        {
            if (_process.HasExited)
                throw new InvalidOperationException("nginx exited: " + _process.StandardError.ReadToEnd() + File.ReadAllText(Path.Combine(_dir, "error.log")));
            try
            {
                using var c = new System.Net.Sockets.TcpClient();
                c.Connect(_address, Port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new InvalidOperationException("nginx did not listen on " + Port);
    }

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
    }

    public void Dispose()
    {
        Kill();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
