namespace Engine.Ice.Turn;

/// <summary>One allocation's state (RFC 8656 §5): relayed addresses, permissions, channels, its user.</summary>
internal sealed class TurnAllocation
{
    public TurnAllocation(in TurnFiveTuple fiveTuple, string username, byte[] usernameUtf8, in StunMessageIntegrityKey key, long restExpiryUnixSeconds)
    {
        FiveTuple = fiveTuple;
        Username = username;
        UsernameUtf8 = usernameUtf8;
        Key = key;
        RestExpiryUnixSeconds = restExpiryUnixSeconds;
        // A REST username is "expiry:user": the quota is the user's, whatever the expiry.
        int colon = username.IndexOf(':');
        QuotaKey = restExpiryUnixSeconds != long.MaxValue && colon >= 0 ? username[(colon + 1)..] : username;
    }

    public readonly TurnFiveTuple FiveTuple;
    public readonly string Username;
    /// <summary>Whose allocation quota this counts against.</summary>
    public readonly string QuotaKey;
    public readonly byte[] UsernameUtf8;
    public readonly StunMessageIntegrityKey Key;
    /// <summary>For a REST username, when it stops being accepted; long.MaxValue otherwise.</summary>
    public readonly long RestExpiryUnixSeconds;

    public NetAddress? Relay4;
    public NetAddress? Relay6;
    public long ExpiresMicros;
    public readonly byte[] AllocateTransactionId = new byte[12];
    public uint GrantedLifetimeSeconds;
    public bool IPv6Refused;
    /// <summary>A peer was let in by an exact-address exception only: every packet's peer is checked, port included.</summary>
    public bool ExactPeerException;
    /// <summary>The Allocate had DONT-FRAGMENT: the relayed sockets send with DF (RFC 8656 §7.2).</summary>
    public bool DontFragment;
    /// <summary>The RESERVATION-TOKEN of the port reserved next to this one (EVEN-PORT with R), repeated in a retransmitted success.</summary>
    public ulong? ReservationToken;
    /// <summary>REQUESTED-TRANSPORT TCP (RFC 6062): the relayed address is a TCP listener, and these are its peer connections.</summary>
    public bool IsTcp;
    public List<TurnTcpConnection>? TcpConnections;

    /// <summary>Peer IP (port 0) → expiry. RFC 8656 §9.</summary>
    public readonly Dictionary<NetAddress, long> Permissions = new();
    /// <summary>Channel number → binding; and peer transport address → channel number. RFC 8656 §12.</summary>
    public readonly Dictionary<ushort, TurnChannel> Channels = new();
    public readonly Dictionary<NetAddress, ushort> ChannelByPeer = new();

    // Token bucket of the bandwidth cap.
    public long Tokens;
    public long TokensAtMicros;

    public bool TryGetRelay(bool ipv6, out NetAddress relay)
    {
        var r = ipv6 ? Relay6 : Relay4;
        relay = r.GetValueOrDefault();
        return r.HasValue;
    }
}

internal struct TurnChannel
{
    public NetAddress Peer;
    public long ExpiresMicros;
    /// <summary>Active and counted in <see cref="TurnCounters.Channels"/>; false while cooling down after expiry.</summary>
    public bool Counted;
}
