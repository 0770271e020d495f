namespace Engine.Rtp.Video;

/// <summary>Why the depacketizer dropped a packet or a frame; each has a counter.</summary>
public enum H264DropReason
{
    /// <summary>Empty payload, forbidden_zero_bit set, or a STAP-A/FU-A whose lengths do not add up.</summary>
    Malformed,
    /// <summary>STAP-B, MTAP and FU-B belong to interleaved mode (RFC 6184 §6.4), which WebRTC does not use.</summary>
    UnsupportedPacketization,
    /// <summary>A sequence gap or a broken fragment inside the frame.</summary>
    IncompleteFrame,
    /// <summary>The frame outgrew the configured maximum.</summary>
    FrameTooLarge,
    /// <summary>A complete frame dropped because decoding must restart at a keyframe.</summary>
    WaitingForKeyframe,
}
