namespace Engine.Rtp.Media;

/// <summary>Optionally implemented by a sink with outputs worth showing in /api/streams.</summary>
public interface ISinkStatus
{
    /// <summary>
    /// Adds a snapshot of each output. Called from an HTTP thread: the sink reads only what is safe
    /// to read there (counters, immutable strings); the caller formats it.
    /// </summary>
    void CollectStatus(List<SinkOutputStatus> outputs);
}
