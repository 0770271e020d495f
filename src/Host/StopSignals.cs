using System.Diagnostics;
using System.Runtime.InteropServices;
using Engine.Host.Logging;

namespace Engine.Host;

/// <summary>
/// The process's signals. SIGTERM or SIGINT starts the stop (<see cref="Token"/>) and its 5 s
/// budget; a second one exits at once with 128 + the signal's number (143, 130), the pid file
/// removed. SIGHUP reloads the config on a pool thread. The handlers only set flags and exit:
/// the stop itself runs on the main thread, and what touches sessions on the media thread.
/// </summary>
public sealed class StopSignals : IDisposable
{
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration[] _registrations;
    private readonly ManualResetEventSlim _finished = new();
    private int _signals;
    private long _signalTimestamp;

    public StopSignals()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => OnStop(ctx, "SIGTERM", 128 + 15)),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => OnStop(ctx, "SIGINT", 128 + 2)),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnHangUp),
        ];
    }

    /// <summary>Cancelled by the first SIGTERM or SIGINT.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>The signal that started the stop ("SIGTERM", "SIGINT"), or null.</summary>
    public string? Signal { get; private set; }

    /// <summary>Removed by a second signal and by the watchdog; the server removes it on a normal exit.</summary>
    public string? PidFile { get; set; }

    /// <summary>What SIGHUP reloads; before it is set, SIGHUP is logged and ignored.</summary>
    public ServerLifecycle? Lifecycle { get; set; }

    /// <summary>What is left of the budget since the first signal (the whole budget before one).</summary>
    public TimeSpan Remaining
    {
        get
        {
            long t = Interlocked.Read(ref _signalTimestamp);
            if (t == 0)
                return Budget;
            var left = Budget - Stopwatch.GetElapsedTime(t);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    public TimeSpan SinceSignal => Interlocked.Read(ref _signalTimestamp) is long t and not 0 ? Stopwatch.GetElapsedTime(t) : TimeSpan.Zero;

    /// <summary>Waits for the first SIGTERM or SIGINT (or <paramref name="other"/>).</summary>
    public void WaitForStop(CancellationToken other = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, other);
        linked.Token.WaitHandle.WaitOne();
    }

    /// <summary>
    /// From the stop's start: if <see cref="Finish"/> is not called within the budget, logs what
    /// <paramref name="pending"/> says was abandoned, removes the pid file and exits 0.
    /// </summary>
    public void StartWatchdog(Func<string> pending)
    {
        var thread = new Thread(() =>
        {
            if (_finished.Wait(Remaining + TimeSpan.FromMilliseconds(100)))
                return;
            string what;
            try
            {
                what = pending();
            }
            catch (Exception e)
            {
                what = e.Message;
            }
            Log.Error($"stop: not done within {Budget.TotalSeconds:F0} s, abandoned: {what}");
            DeletePidFile();
            Log.Flush(TimeSpan.FromMilliseconds(300));
            Environment.Exit(0);
        }) { IsBackground = true, Name = "stop-watchdog" };
        thread.Start();
    }

    /// <summary>The stop is done: the watchdog stands down.</summary>
    public void Finish() => _finished.Set();

    public void DeletePidFile()
    {
        if (PidFile is not { } path)
            return;
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warn($"pid file {path}: {e.Message}");
        }
    }

    private void OnStop(PosixSignalContext ctx, string name, int exitCode)
    {
        ctx.Cancel = true;
        if (Interlocked.Increment(ref _signals) == 1)
        {
            Signal = name;
            Interlocked.Exchange(ref _signalTimestamp, Stopwatch.GetTimestamp());
            _stop.Cancel();
            return;
        }
        Log.Error($"{name} while stopping: exiting at once with code {exitCode}, the stop abandoned");
        DeletePidFile();
        Log.Flush(TimeSpan.FromMilliseconds(300));
        Environment.Exit(exitCode);
    }

    private void OnHangUp(PosixSignalContext ctx)
    {
        ctx.Cancel = true; // SIGHUP's default would end the process
        var lifecycle = Lifecycle;
        if (lifecycle == null || lifecycle.IsStopping)
        {
            Log.Notice("SIGHUP ignored: the server is starting or stopping");
            return;
        }
        ThreadPool.QueueUserWorkItem(_ => lifecycle.Reload("SIGHUP"));
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
        _stop.Dispose();
    }
}
