namespace Engine.Ice.Turn;

/// <summary>Configuration of a <see cref="TurnServer"/>, read once when it is built.</summary>
public sealed class TurnServerOptions
{
    /// <summary>REALM of the long-term credentials (RFC 8489 §9.2).</summary>
    public string Realm { get; set; } = "engine";

    /// <summary>Static users: name → password, or "0x" + 32 hex digits of MD5(user:realm:password).</summary>
    public Dictionary<string, string> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The REST API shared secret (coturn's use-auth-secret): username "expiry:user" with expiry in
    /// Unix seconds, password base64(HMAC-SHA1(secret, username)). Null disables it.
    /// </summary>
    public string? SharedSecret { get; set; }

    /// <summary>Added to nowMicros to get Unix time in microseconds (the REST expiry is wall-clock).</summary>
    public long UnixEpochOffsetMicros { get; set; }

    public uint DefaultLifetimeSeconds { get; set; } = 600;   // RFC 8656 §7.2
    public uint MaxLifetimeSeconds { get; set; } = 3600;      // RFC 8656 §7.2
    public uint PermissionLifetimeSeconds { get; set; } = 300; // RFC 8656 §9
    public uint ChannelLifetimeSeconds { get; set; } = 600;   // RFC 8656 §12
    public uint NonceLifetimeSeconds { get; set; } = 600;

    public int MaxAllocations { get; set; } = 10_000;
    public int MaxAllocationsPerUser { get; set; } = 16;
    public int MaxPermissionsPerAllocation { get; set; } = 256;
    public int MaxChannelsPerAllocation { get; set; } = 256;
    /// <summary>Peer connections of one TCP allocation (RFC 6062) at once, pending and spliced.</summary>
    public int MaxTcpConnectionsPerAllocation { get; set; } = 64;

    /// <summary>
    /// Refuse a Connect (RFC 6062) with 403 unless the peer's IP already has a permission, as for
    /// every other relayed byte. Off, a Connect to an allowed peer needs none (coturn's behaviour);
    /// either way a successful Connect adds or refreshes the permission (RFC 6062 §5.2).
    /// </summary>
    public bool TcpConnectRequiresPermission { get; set; } = true;

    /// <summary>Relayed bytes per second per allocation, both directions together; 0 is no cap.</summary>
    public long MaxBytesPerSecondPerAllocation { get; set; }

    /// <summary>Bucket depth of that cap; 0 means one second's worth.</summary>
    public long BurstBytesPerAllocation { get; set; }

    /// <summary>Answers sent before authentication (Binding, 401, 438, 400) per second, against floods; 0 is no cap.</summary>
    public int UnauthenticatedResponsesPerSecond { get; set; } = 20_000;

    /// <summary>Exceptions to every deny list (tests relay to loopback this way).</summary>
    public List<TurnIpRange> AllowedPeerRanges { get; } = new();

    /// <summary>
    /// Exact transport addresses (IP and port) a client may relay to even when their IP is denied:
    /// the engine's own media ports. Only that port: an allocation that used this exception is
    /// checked per packet, both ways.
    /// </summary>
    public List<NetAddress> AllowedPeerAddresses { get; } = new();

    /// <summary>Denied in addition to the built-in list (loopback, private, link-local, multicast, ...).</summary>
    public List<TurnIpRange> DeniedPeerRanges { get; } = new();

    /// <summary>Whether the host can send with DF set; if not, DONT-FRAGMENT is answered 420 (RFC 8656 §7.2).</summary>
    public bool SupportsDontFragment { get; set; }

    /// <summary>Key of the nonce MAC; random when null (nonces then die with the process).</summary>
    public byte[]? NonceSecret { get; set; }

    /// <summary>
    /// Highest channel number bound: 0x4FFF per RFC 8656 §12, where 0x5000-0x7FFF are kept apart for
    /// RFC 7983 demultiplexing. A standalone listener may take RFC 5766's 0x7FFF: coturn's clients
    /// (turnutils_uclient) pick numbers up to it.
    /// </summary>
    public ushort MaxChannelNumber { get; set; } = 0x4FFF;

    /// <summary>SOFTWARE written in responses; null writes none.</summary>
    public string? Software { get; set; }
}
