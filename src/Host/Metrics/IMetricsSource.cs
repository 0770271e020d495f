namespace Engine.Host.Metrics;

/// <summary>
/// Something /metrics shows. <see cref="Write"/> runs on an HTTP thread at each scrape: it reads
/// only what is safe there (snapshots, atomic counters), never media-thread state.
/// </summary>
public interface IMetricsSource
{
    void Write(MetricsWriter w);
}
