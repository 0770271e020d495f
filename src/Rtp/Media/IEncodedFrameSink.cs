namespace Engine.Rtp.Media;

/// <summary>
/// Where a publish session's frames go (the RTMP muxer, a file writer for tests). Called on the
/// media thread: copy what must outlive the call, and never block (hand work to another thread
/// behind a bounded queue).
/// </summary>
public interface IEncodedFrameSink
{
    /// <summary><paramref name="trackIndex"/> tells the session's tracks apart (0-based, in SDP order).</summary>
    void OnFrame(int trackIndex, in EncodedFrame frame);

    /// <summary>The session ended; no more frames follow.</summary>
    void OnEnd();

    /// <summary>
    /// Polled by the session on the media thread: true once after the sink lost its place in the
    /// video (output restarted, frames dropped) and needs a keyframe; the session then sends a PLI.
    /// </summary>
    bool TakeKeyframeRequest() => false;
}
