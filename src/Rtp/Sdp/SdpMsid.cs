namespace Engine.Rtp.Sdp;

/// <summary>An a=msid line (RFC 8830): the MediaStream id and the optional track id ("appdata").</summary>
public sealed record SdpMsid(string StreamId, string? TrackId)
{
    public override string ToString() => TrackId is null ? StreamId : StreamId + " " + TrackId;
}
