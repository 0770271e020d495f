namespace Engine.Ice;

/// <summary>
/// STUN attribute types. 0x0000-0x7FFF are comprehension-required, 0x8000-0xFFFF
/// comprehension-optional (RFC 8489 §14, registry §18.3).
/// </summary>
public enum StunAttributeType : ushort
{
    // RFC 8489 §14.1 (kept for RFC 3489 peers; we write XOR-MAPPED-ADDRESS)
    MappedAddress = 0x0001,
    // RFC 8489 §14.3
    Username = 0x0006,
    // RFC 8489 §14.5
    MessageIntegrity = 0x0008,
    // RFC 8489 §14.8
    ErrorCode = 0x0009,
    // RFC 8489 §14.13
    UnknownAttributes = 0x000A,
    // RFC 8656 §18.1
    ChannelNumber = 0x000C,
    // RFC 8656 §18.2
    Lifetime = 0x000D,
    // RFC 8656 §18.3
    XorPeerAddress = 0x0012,
    // RFC 8656 §18.4
    Data = 0x0013,
    // RFC 8489 §14.9
    Realm = 0x0014,
    // RFC 8489 §14.10
    Nonce = 0x0015,
    // RFC 8656 §18.5
    XorRelayedAddress = 0x0016,
    // RFC 8656 §18.6
    RequestedAddressFamily = 0x0017,
    // RFC 8656 §18.7
    EvenPort = 0x0018,
    // RFC 8656 §18.8
    RequestedTransport = 0x0019,
    // RFC 8656 §18.9
    DontFragment = 0x001A,
    // RFC 8489 §14.6
    MessageIntegritySha256 = 0x001C,
    // RFC 8489 §14.12
    PasswordAlgorithm = 0x001D,
    // RFC 8489 §14.4
    Userhash = 0x001E,
    // RFC 8489 §14.2
    XorMappedAddress = 0x0020,
    // RFC 8656 §18.10
    ReservationToken = 0x0022,
    // RFC 8445 §7.1.1
    Priority = 0x0024,
    // RFC 8445 §7.1.2
    UseCandidate = 0x0025,
    // RFC 6062 §6.2
    ConnectionId = 0x002A,
    // RFC 8656 §18.11
    AdditionalAddressFamily = 0x8000,
    // RFC 8656 §18.12
    AddressErrorCode = 0x8001,
    // RFC 8489 §14.11
    PasswordAlgorithms = 0x8002,
    // RFC 8489 §14.16
    AlternateDomain = 0x8003,
    // RFC 8656 §18.13
    Icmp = 0x8004,
    // RFC 8489 §14.14
    Software = 0x8022,
    // RFC 8489 §14.15
    AlternateServer = 0x8023,
    // RFC 8489 §14.7
    Fingerprint = 0x8028,
    // RFC 8445 §7.1.3
    IceControlled = 0x8029,
    IceControlling = 0x802A,
    // Chromium's GOOG-NETWORK-INFO (seen in the fixture capture; not in an RFC)
    GoogNetworkInfo = 0xC057,
}
