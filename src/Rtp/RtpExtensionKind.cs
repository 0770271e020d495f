namespace Engine.Rtp;

/// <summary>The header extensions this engine understands, as negotiated by SDP a=extmap (RFC 8285 §5).</summary>
public enum RtpExtensionKind : byte
{
    Unknown = 0,
    AudioLevel,
    AbsSendTime,
    TransportSequenceNumber,
    Mid,
    RtpStreamId,
    RepairedRtpStreamId,
    PlayoutDelay,
    TransmissionTimeOffset,
    VideoOrientation,
}
