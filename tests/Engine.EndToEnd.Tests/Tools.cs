using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Engine.EndToEnd.Tests;

internal static class Tools
{
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Engine.sln")))
                return d.FullName;
        throw new DirectoryNotFoundException("Engine.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The native-AOT binary; tests/run.sh publishes it before the tests run.</summary>
    public static string EngineBinary
    {
        get
        {
            var path = Path.Combine(RepoRoot, "artifacts", "engine");
            Assert.True(File.Exists(path), $"{path} is missing: run 'dotnet publish src/Host -c Release -r linux-x64 -o artifacts' (tests/run.sh does)");
            return path;
        }
    }

    public static string Require(string name)
    {
        foreach (var dir in new[] { "/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin" })
        {
            var p = Path.Combine(dir, name);
            if (File.Exists(p))
                return p;
        }
        Assert.Fail($"{name} is missing: tests/run.sh installs it");
        return "";
    }

    public static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Starts a long-running program (a browser) with its output read and dropped, so it never blocks on a full pipe.</summary>
    public static Process StartDrained(string file, string arguments)
    {
        var p = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Runs a tool to completion (bounded) and returns its exit code and output.</summary>
    public static (int Code, string Stdout, string Stderr) Run(string file, string arguments, int timeoutMs = 60_000)
    {
        var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {arguments} did not finish in {timeoutMs} ms");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public static async Task<T> PollAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        T last = await probe();
        while (!done(last))
        {
            if (sw.Elapsed > timeout)
                Assert.Fail($"timed out after {timeout.TotalSeconds:0} s waiting for {what}; last: {last}");
            await Task.Delay(250);
            last = await probe();
        }
        return last;
    }
}
