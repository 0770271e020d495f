namespace Engine.Host.Metrics;

/// <summary>The metric types the Prometheus text format 0.0.4 names in its TYPE line (summaries are not used here).</summary>
public enum MetricType
{
    Counter,
    Gauge,
    Histogram,
}
