namespace Engine.Rtp.Sdp;

/// <summary>An a= line this parser does not model, kept verbatim so a round trip keeps it.
/// <see cref="Value"/> is null for a property attribute (no colon), RFC 8866 §5.13.</summary>
public sealed record SdpAttribute(string Name, string? Value)
{
    public override string ToString() => Value is null ? "a=" + Name : "a=" + Name + ":" + Value;
}
