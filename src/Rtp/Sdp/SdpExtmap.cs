namespace Engine.Rtp.Sdp;

/// <summary>An a=extmap line (RFC 8285 §8): the local id, an optional direction and the URI
/// naming the header extension. <see cref="Attributes"/> is whatever follows the URI, or null.</summary>
public sealed record SdpExtmap(int Id, string Uri, SdpDirection Direction = SdpDirection.None, string? Attributes = null);
