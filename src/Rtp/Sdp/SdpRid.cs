namespace Engine.Rtp.Sdp;

/// <summary>An a=rid line (RFC 8851 §10): id, direction, the optional pt= list and the other
/// restrictions (max-width, max-fps, ...) in order.</summary>
public sealed class SdpRid
{
    public SdpRid(string id, SdpRidDirection direction)
    {
        Id = id;
        Direction = direction;
    }

    public string Id { get; set; }

    public SdpRidDirection Direction { get; set; }

    public List<int> PayloadTypes { get; } = new();

    public List<SdpParameter> Restrictions { get; } = new();
}
