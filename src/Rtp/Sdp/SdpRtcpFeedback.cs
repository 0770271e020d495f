namespace Engine.Rtp.Sdp;

/// <summary>One a=rtcp-fb value (RFC 4585 §4.2): "nack", "nack pli", "ccm fir", "transport-cc".
/// <see cref="Parameter"/> is everything after the type, or null.</summary>
public sealed record SdpRtcpFeedback(string Type, string? Parameter)
{
    public override string ToString() => Parameter is null ? Type : Type + " " + Parameter;
}
