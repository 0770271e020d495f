namespace Engine.Rtp.Video;

/// <summary>What an SPS says about the slice headers that refer to it (H.264 §7.4.2.1.1).</summary>
internal readonly record struct H264SliceParameters(int Log2MaxFrameNum, bool GapsInFrameNumAllowed, bool SeparateColourPlanes, bool FrameMbsOnly)
{
    public bool IsValid => Log2MaxFrameNum >= 4;
}
