using Engine.Host.Logging;

namespace Engine.Host.Metrics;

/// <summary>The sources /metrics writes, in the order they were added. Thread-safe.</summary>
public sealed class MetricsRegistry
{
    private IMetricsSource[] _sources = [];
    private readonly Lock _lock = new();

    public void Add(IMetricsSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_lock)
            _sources = [.. _sources, source];
    }

    /// <summary>A source as a lambda: <c>registry.Add(w => w.Counter(...))</c>.</summary>
    public void Add(Action<MetricsWriter> write) => Add(new DelegateSource(write));

    public int Count => Volatile.Read(ref _sources).Length;

    public void Write(MetricsWriter w)
    {
        foreach (var source in Volatile.Read(ref _sources))
        {
            try
            {
                source.Write(w);
            }
            catch (Exception e)
            {
                // One broken source must not take the whole scrape down.
                Log.Error($"metrics source {source.GetType().Name} failed: {e.Message}");
            }
        }
    }

    private sealed class DelegateSource(Action<MetricsWriter> write) : IMetricsSource
    {
        public void Write(MetricsWriter w) => write(w);
    }
}
