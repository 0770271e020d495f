using System.Diagnostics;
using System.Text.Json;
using Engine.Host.Config;
using Engine.Host.Logging;
using Engine.Host.Sessions;

namespace Engine.Host;

/// <summary>
/// <c>[BASE] STATETIME</c>: a <see cref="StatsLine"/> at notice level every N seconds (0: none),
/// on a thread of its own from the /api/streams snapshots. N is read each second, so a reload
/// changes it at once.
/// </summary>
public sealed class StatsReporter : IDisposable
{
    private readonly IPublishService _service;
    private readonly EngineConfig _config;
    private readonly CancellationToken _stop;
    private readonly CancellationTokenSource _disposed = new();
    private readonly StatsLine _line = new();

    private StatsReporter(IPublishService service, EngineConfig config, CancellationToken stop)
    {
        _service = service;
        _config = config;
        _stop = stop;
    }

    public static StatsReporter Start(IPublishService service, EngineConfig config, CancellationToken stop)
    {
        var r = new StatsReporter(service, config, stop);
        new Thread(r.Run) { IsBackground = true, Name = "stats" }.Start();
        return r;
    }

    /// <summary>The line for now (any thread but one at a time: the reporter's own, or a test's).</summary>
    public static string Line(IPublishService service, StatsLine line, double seconds)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer))
            service.WriteStreams(w);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return line.Next(doc.RootElement, seconds, Log.Dropped);
    }

    private void Run()
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop, _disposed.Token);
        long last = Stopwatch.GetTimestamp();
        while (!linked.Token.WaitHandle.WaitOne(1000))
        {
            int every = _config.StateTimeSeconds;
            var since = Stopwatch.GetElapsedTime(last);
            if (every <= 0 || since.TotalSeconds < every)
                continue;
            last = Stopwatch.GetTimestamp();
            try
            {
                Log.Notice(Line(_service, _line, since.TotalSeconds));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                Log.Warn($"stats: {e.Message}");
            }
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
    }
}
