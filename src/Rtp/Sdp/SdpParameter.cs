namespace Engine.Rtp.Sdp;

/// <summary>One name[=value] item, kept in order: an fmtp parameter (RFC 8866 §6.15), a rid
/// restriction (RFC 8851 §10), an ssrc attribute (RFC 5576 §4.1, name[:value]) or an unknown
/// candidate extension (RFC 8839 §5.1). <see cref="Value"/> is null when there was no separator
/// (e.g. red's "111/111").</summary>
public sealed record SdpParameter(string Name, string? Value);
