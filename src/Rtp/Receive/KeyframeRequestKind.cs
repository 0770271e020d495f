namespace Engine.Rtp.Receive;

/// <summary>Which keyframe request a receive stream wants sent now.</summary>
public enum KeyframeRequestKind
{
    None,
    /// <summary>Picture Loss Indication (RFC 4585 §6.3.1).</summary>
    Pli,
    /// <summary>Full Intra Request (RFC 5104 §4.3.1) with <see cref="RtpReceiveStream.FirSequenceNumber"/>.</summary>
    Fir,
}
