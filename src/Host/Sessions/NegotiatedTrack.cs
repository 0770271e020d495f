namespace Engine.Host.Sessions;

/// <summary>One accepted m-line of a publish: what the receive pipeline needs to know about it.</summary>
public sealed record NegotiatedTrack(
    string Mid,
    MediaKind Kind,
    string Codec,
    int PayloadType,
    int ClockRate,
    int Channels,
    string? H264ProfileLevelId,
    IReadOnlyList<uint> OfferedSsrcs);

public enum MediaKind
{
    Audio,
    Video,
}
