using Engine.Rtp.Media;

namespace Engine.Host.Output;

/// <summary>
/// A published stream's frames to one or more FLV outputs (the RTMP push, the record URL, or a
/// file). Each output has its own queue and writer, so a stalled one costs the others nothing.
/// </summary>
public sealed class FlvPublishSink : IEncodedFrameSink, ISinkStatus, IDisposable
{
    private readonly FlvOutput[] _outputs;

    public FlvPublishSink(IReadOnlyList<FlvOutput> outputs) => _outputs = outputs.ToArray();

    public IReadOnlyList<FlvOutput> Outputs => _outputs;

    /// <summary>Completes when every output has closed after the session ended.</summary>
    public Task Completion => Task.WhenAll(_outputs.Select(o => o.Completion));

    public void OnFrame(int trackIndex, in EncodedFrame frame)
    {
        foreach (var o in _outputs)
            o.Enqueue(trackIndex, frame);
    }

    public void OnEnd()
    {
        foreach (var o in _outputs)
            o.Complete();
    }

    public bool TakeKeyframeRequest()
    {
        bool any = false;
        foreach (var o in _outputs)
            any |= o.TakeKeyframeRequest();
        return any;
    }

    public void CollectStatus(List<SinkOutputStatus> outputs)
    {
        foreach (var o in _outputs)
            outputs.Add(o.Snapshot());
    }

    public void Dispose()
    {
        foreach (var o in _outputs)
            o.Dispose();
    }
}
