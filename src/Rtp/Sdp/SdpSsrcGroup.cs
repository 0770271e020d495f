namespace Engine.Rtp.Sdp;

/// <summary>An a=ssrc-group line (RFC 5576 §4.2): FID pairs a primary SSRC with its rtx SSRC
/// (RFC 4588 §8), SIM lists simulcast layers.</summary>
public sealed class SdpSsrcGroup
{
    public SdpSsrcGroup(string semantics, IEnumerable<uint>? ssrcs = null)
    {
        Semantics = semantics;
        if (ssrcs != null) Ssrcs.AddRange(ssrcs);
    }

    public string Semantics { get; set; }

    public List<uint> Ssrcs { get; } = new();
}
