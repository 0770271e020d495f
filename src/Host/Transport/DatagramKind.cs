namespace Engine.Host.Transport;

/// <summary>What a datagram on the shared media port is, by RFC 7983 §7 first-byte ranges.</summary>
public enum DatagramKind : byte
{
    Unknown = 0,
    Stun,
    Zrtp,
    Dtls,
    TurnChannelData,
    Rtp,
    Rtcp,
}
