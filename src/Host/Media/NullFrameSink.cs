using Engine.Rtp.Media;

namespace Engine.Host.Media;

/// <summary>Counts frames and drops them: the sink when nothing consumes a stream.</summary>
public sealed class NullFrameSink : IEncodedFrameSink
{
    public long Frames { get; private set; }

    public void OnFrame(int trackIndex, in EncodedFrame frame) => Frames++;

    public void OnEnd() { }
}
