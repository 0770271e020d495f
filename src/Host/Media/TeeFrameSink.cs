using System.Text.Json;
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

    public void WriteStatus(Utf8JsonWriter writer)
    {
        var statuses = _sinks.OfType<ISinkStatus>().ToArray();
        if (statuses.Length == 1)
        {
            statuses[0].WriteStatus(writer);
            return;
        }
        writer.WriteStartArray();
        foreach (var s in statuses)
            s.WriteStatus(writer);
        writer.WriteEndArray();
    }

    public void Dispose()
    {
        foreach (var s in _sinks.OfType<IDisposable>())
            s.Dispose();
    }
}
