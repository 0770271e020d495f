namespace Engine.Rtp.Sdp;

/// <summary>An a=group line (RFC 5888 §5), e.g. "BUNDLE 0 1" (RFC 8843).</summary>
public sealed class SdpGroup
{
    public SdpGroup(string semantics, IEnumerable<string>? mids = null)
    {
        Semantics = semantics;
        if (mids != null) Mids.AddRange(mids);
    }

    public string Semantics { get; set; }

    /// <summary>The identification-tags (a=mid values) in the group, in order.</summary>
    public List<string> Mids { get; } = new();

    public override string ToString() => Mids.Count == 0 ? Semantics : Semantics + " " + string.Join(' ', Mids);
}
