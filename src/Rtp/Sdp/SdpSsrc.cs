namespace Engine.Rtp.Sdp;

/// <summary>All a=ssrc lines of one SSRC in a media section (RFC 5576 §4.1), attributes in order.</summary>
public sealed class SdpSsrc
{
    public SdpSsrc(uint ssrc) => Ssrc = ssrc;

    public uint Ssrc { get; set; }

    /// <summary>name[:value] pairs: cname (RFC 5576 §6.1), msid (RFC 8830), and whatever else came.</summary>
    public List<SdpParameter> Attributes { get; } = new();

    public string? Cname => Get("cname");

    /// <summary>The legacy a=ssrc msid value ("stream track"), still sent by Chromium.</summary>
    public string? Msid => Get("msid");

    public string? Get(string name)
    {
        foreach (var a in Attributes)
            if (a.Name == name) return a.Value;
        return null;
    }
}
