namespace Engine.Host.Sessions;

/// <summary>One accepted m-line of a publish: what the receive pipeline needs to know about it. RtxPayloadType: RFC 4588 RTX answered for it, -1 for none. Fir: the answer kept <c>ccm fir</c> (RFC 5104). Stereo: whether an Opus source sends stereo (RFC 7587 §7.1), null when unknown (a relayed publisher's rtpmap always says 2).</summary>
public sealed record NegotiatedTrack(
    string Mid,
    MediaKind Kind,
    string Codec,
    int PayloadType,
    int ClockRate,
    int Channels,
    string? H264ProfileLevelId,
    IReadOnlyList<uint> OfferedSsrcs,
    int RtxPayloadType = -1,
    bool Fir = false,
    bool? Stereo = null);

public enum MediaKind
{
    Audio,
    Video,
}
