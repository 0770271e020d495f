using Engine.Rtp.Media;

namespace Engine.Host.Media;

/// <summary>One session's frames to several sinks (the outputs and a diagnostic dump).</summary>
public sealed class TeeFrameSink(IReadOnlyList<IEncodedFrameSink> sinks) : IEncodedFrameSink, IRtpPacketTap, ISinkStatus, IDisposable
{
    private readonly IEncodedFrameSink[] _sinks = sinks.ToArray();
    private readonly IRtpPacketTap[] _taps = sinks.OfType<IRtpPacketTap>().ToArray();

    public IReadOnlyList<IEncodedFrameSink> Sinks => _sinks;

    public void OnFrame(int trackIndex, in EncodedFrame frame)
    {
        foreach (var s in _sinks)
            s.OnFrame(trackIndex, frame);
    }

    public void OnEnd()
    {
        foreach (var s in _sinks)
            s.OnEnd();
    }

    public bool TakeKeyframeRequest()
    {
        bool any = false;
        foreach (var s in _sinks)
            any |= s.TakeKeyframeRequest();
        return any;
    }

    public void OnRtpPacket(int trackIndex, ReadOnlySpan<byte> rtpPacket)
    {
        foreach (var t in _taps)
            t.OnRtpPacket(trackIndex, rtpPacket);
    }

    // Every sink's outputs in one list (today only the FLV sink has any).
    public void CollectStatus(List<SinkOutputStatus> outputs)
    {
        foreach (var s in _sinks)
            (s as ISinkStatus)?.CollectStatus(outputs);
    }

    public void Dispose()
    {
        foreach (var s in _sinks.OfType<IDisposable>())
            s.Dispose();
    }
}
