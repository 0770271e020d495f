namespace Engine.Rtp.Sdp;

/// <summary>A non-attribute line this parser does not model (i=, u=, e=, p=, b=, r=, z=, k=),
/// kept verbatim. RFC 8866 §5 fixes their order; the writer restores it.</summary>
public sealed record SdpLine(char Type, string Value)
{
    public override string ToString() => Type + "=" + Value;
}
