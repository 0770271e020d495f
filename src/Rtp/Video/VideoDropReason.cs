namespace Engine.Rtp.Video;

/// <summary>Why a video depacketizer dropped a packet or a frame; each has a counter.</summary>
public enum VideoDropReason
{
    /// <summary>A payload whose header or lengths do not add up.</summary>
    Malformed,
    /// <summary>A payload format feature WebRTC does not use (H.264 STAP-B, MTAP, FU-B: RFC 6184 §6.4 interleaved mode).</summary>
    UnsupportedPacketization,
    /// <summary>A sequence gap or a broken fragment inside the frame.</summary>
    IncompleteFrame,
    /// <summary>The frame outgrew the configured maximum.</summary>
    FrameTooLarge,
    /// <summary>A complete frame dropped because decoding must restart at a keyframe.</summary>
    WaitingForKeyframe,
    /// <summary>A whole frame whose codec information says it refers to a frame that was lost.</summary>
    MissingReference,
    /// <summary>An H.264 IDR whose SPS/PPS were never delivered: not a keyframe a decoder can start from.</summary>
    MissingParameterSets,
}
