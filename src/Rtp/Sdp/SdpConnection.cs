namespace Engine.Rtp.Sdp;

/// <summary>The c= line (RFC 8866 §5.7). <see cref="Address"/> keeps any /ttl suffix as written.</summary>
public sealed record SdpConnection(string NetType, string AddressType, string Address)
{
    public override string ToString() => $"c={NetType} {AddressType} {Address}";
}
