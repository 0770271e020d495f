using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Engine.Dtls;

namespace Engine.Dtls.Tests;

/// <summary>
/// Runs the openssl CLI as the real peer over loopback UDP and drives our endpoint on a socket the
/// test owns. Every wait is bounded; the process is killed in Dispose.
/// </summary>
internal sealed partial class OpenSslPeer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private OpenSslPeer(string arguments)
    {
        var psi = new ProcessStartInfo("openssl", arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public Process Process => _process;

    public static OpenSslPeer Start(string arguments) => new(arguments);

    public bool WaitForOutput(string text, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (Output.Contains(text, StringComparison.Ordinal)) return true;
            if (_process.HasExited) return Output.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>The hex after "Keying material:" in s_client/s_server output.</summary>
    public byte[]? KeyingMaterial
    {
        get
        {
            Match m = KeyingMaterialRegex().Match(Output);
            return m.Success ? Convert.FromHexString(m.Groups[1].Value) : null;
        }
    }

    [GeneratedRegex(@"Keying material: ([0-9A-Fa-f]+)")]
    private static partial Regex KeyingMaterialRegex();

    public void CloseInput()
    {
        try { _process.StandardInput.Close(); } catch (IOException) { }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    /// <summary>
    /// A self-signed certificate and key made by openssl itself; returns (certPath, keyPath). <paramref name="key"/>
    /// is "ec" (P-256) or "rsa:BITS", as in <c>openssl req -newkey</c>.
    /// </summary>
    public static (string Cert, string Key) CreateCertificate(string dir, string key = "ec")
    {
        string newKey = key == "ec" ? "ec -pkeyopt ec_paramgen_curve:prime256v1" : key;
        string name = key.Replace(':', '-');
        string certPath = Path.Combine(dir, $"cert-{name}.pem"), keyPath = Path.Combine(dir, $"key-{name}.pem");
        using var p = Process.Start(new ProcessStartInfo("openssl",
            $"req -x509 -newkey {newKey} -nodes -keyout {keyPath} -out {certPath} -subj /CN=openssl-peer -days 2")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        p.StandardOutput.ReadToEndAsync();
        p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) // RSA-4096 generation takes seconds on a busy machine
        {
            p.Kill(true);
            throw new TimeoutException("openssl req");
        }
        Assert.Equal(0, p.ExitCode);
        return (certPath, keyPath);
    }

    public static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Pumps datagrams between our endpoint and a UDP peer with the wall clock, until done or the deadline.</summary>
    public static void Drive(DtlsEndpoint endpoint, Socket socket, EndPoint? peer, Func<bool> done, TimeSpan timeout, Action<byte[]>? received = null)
    {
        var clock = Stopwatch.StartNew();
        var tx = new byte[2048];
        var rx = new byte[65536];
        while (clock.Elapsed < timeout && !done())
        {
            long now = clock.Elapsed.Ticks / 10;
            endpoint.HandleTimeout(now);
            while (peer != null && endpoint.TryPollTransmit(tx, out int n)) socket.SendTo(tx.AsSpan(0, n), SocketFlags.None, peer);
            if (socket.Poll(20_000, SelectMode.SelectRead))
            {
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                int n = socket.ReceiveFrom(rx, ref from);
                peer ??= from;
                received?.Invoke(rx.AsSpan(0, n).ToArray());
                endpoint.HandleDatagram(rx.AsSpan(0, n), clock.Elapsed.Ticks / 10);
                while (endpoint.TryPollTransmit(tx, out int m)) socket.SendTo(tx.AsSpan(0, m), SocketFlags.None, peer);
            }
        }
    }
}
