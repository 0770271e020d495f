namespace Engine.Rtp.Video;

/// <summary>
/// A codec's reading of which frames a frame depends on (H.264 frame_num, VP8/VP9 picture ID,
/// TL0PICIDX and layer bits). The depacketizer fills the current frame's fields while appending
/// payloads; the assembler asks at the end of each frame.
/// </summary>
internal interface IFrameDependencies
{
    /// <summary>A new frame starts: forget what was read of the previous one.</summary>
    void BeginFrame();

    /// <summary>
    /// The frame arrived whole. <paramref name="packetsLostBefore"/> sequence numbers are missing
    /// between the previous frame and it (padding or whole frames); <paramref name="chainBroken"/>
    /// is set while the stream waits for a keyframe.
    /// </summary>
    FrameDependencyVerdict Judge(bool isKeyframe, long packetsLostBefore, bool chainBroken);

    void OnDelivered(bool isKeyframe);

    /// <summary>The frame is lost (incomplete) or undecodable.</summary>
    FrameLossImpact OnDropped();

    /// <summary>A temporal layer is waiting to resync (a keyframe would repair it too).</summary>
    bool LayersBroken { get; }
}
