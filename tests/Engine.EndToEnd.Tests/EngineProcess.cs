using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>artifacts/engine on loopback ports of its own, with a generated config; killed on dispose.</summary>
internal sealed class EngineProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    public readonly int HttpPort = Tools.FreeTcpPort();
    public readonly int MediaPort = Tools.FreeUdpPort();
    public readonly string Directory = Path.Combine(Path.GetTempPath(), "engine-e2e-" + Guid.NewGuid().ToString("n")[..8]);
    public readonly HttpClient Http;

    /// <param name="localIp">ICELOCALIP: media, the answer's candidate and HTTP bind to it.</param>
    /// <param name="inside">Run the engine inside this namespace (localIp then its inside address).</param>
    public EngineProcess(string extraConfig = "", string localIp = "127.0.0.1", NetNamespace? inside = null)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var config = ConfigPath;
        File.WriteAllText(config, $"""
            [BASE]
            PORT={HttpPort}
            [LOG]
            LOGLEVEL=5
            [WEBRTC]
            WEBRTCPORTSTART={MediaPort}
            ICELOCALIP={localIp}
            RECORDDIR={System.IO.Path.Combine(Directory, "recordings")}
            {extraConfig}
            """);
        string args = $"--config {config} --dump-dir {Path.Combine(Directory, "dump")}";
        var (file, arguments) = inside?.Exec(Tools.EngineBinary, args) ?? (Tools.EngineBinary, args); // ip netns exec execs: same pid
        var psi = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Http = new HttpClient { BaseAddress = new Uri($"http://{localIp}:{HttpPort}"), Timeout = TimeSpan.FromSeconds(10) };
        for (int i = 0; i < 100; i++)
        {
            if (_process.HasExited)
                Assert.Fail("engine exited: " + Output);
            try
            {
                Http.GetStringAsync("/api/streams").GetAwaiter().GetResult();
                return;
            }
            catch (HttpRequestException)
            {
                Thread.Sleep(100);
            }
        }
        Assert.Fail("engine did not answer on HTTP: " + Output);
    }

    public int Pid => _process.Id;

    /// <summary>The generated config (SIGHUP and /reload re-read it).</summary>
    public string ConfigPath => Path.Combine(Directory, "engine.config");

    /// <summary>Sends a POSIX signal to the engine (15 SIGTERM, 2 SIGINT, 1 SIGHUP).</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>Waits (bounded) for the engine to exit; then its output is complete.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            return false;
        _process.WaitForExit(); // the redirected output's last lines
        return true;
    }

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public string DumpPath(string stream, string extension = ".h264") => Path.Combine(Directory, "dump", stream + extension);

    public async Task<JsonElement> StreamsAsync() => JsonDocument.Parse(await Http.GetStringAsync("/api/streams")).RootElement.Clone();

    public void Dispose()
    {
        Http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            if (Environment.GetEnvironmentVariable("ENGINE_E2E_KEEP") == null)
                try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
        }
    }
}
