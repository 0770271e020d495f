namespace Engine.Host.Sessions;

/// <summary>One accepted m-line of a publish: what the receive pipeline needs to know about it. RtxPayloadType: RFC 4588 RTX answered for it, -1 for none.</summary>
public sealed record NegotiatedTrack(
    string Mid,
    MediaKind Kind,
    string Codec,
    int PayloadType,
    int ClockRate,
    int Channels,
    string? H264ProfileLevelId,
    IReadOnlyList<uint> OfferedSsrcs,
    int RtxPayloadType = -1);

public enum MediaKind
{
    Audio,
    Video,
}
