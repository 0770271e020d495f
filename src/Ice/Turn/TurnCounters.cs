namespace Engine.Ice.Turn;

/// <summary>What a <see cref="TurnServer"/> holds and has relayed (single-threaded, like the server).</summary>
public sealed class TurnCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<TurnDropReason>().Length];

    public long Allocations { get; internal set; }
    public long AllocationsCreated { get; internal set; }
    public long Permissions { get; internal set; }
    public long Channels { get; internal set; }
    public long PacketsToPeer { get; internal set; }
    public long BytesToPeer { get; internal set; }
    public long PacketsToClient { get; internal set; }
    public long BytesToClient { get; internal set; }
    public long ErrorResponses { get; internal set; }

    // RFC 6062 TCP allocations.
    /// <summary>Peer connections held (connecting, waiting for ConnectionBind, or spliced).</summary>
    public long TcpConnections { get; internal set; }
    public long TcpConnectsSucceeded { get; internal set; }
    /// <summary>Connect requests answered 447: the host could not reach the peer.</summary>
    public long TcpConnectsFailed { get; internal set; }
    /// <summary>Peers that connected to a relayed address with a permission, announced in a ConnectionAttempt.</summary>
    public long TcpConnectionAttempts { get; internal set; }
    public long TcpBinds { get; internal set; }
    /// <summary>Peer connections closed because no ConnectionBind came within 30 s.</summary>
    public long TcpBindTimeouts { get; internal set; }

    public long this[TurnDropReason reason] => _drops[(int)reason];

    public long TotalDrops
    {
        get
        {
            long sum = 0;
            foreach (long d in _drops)
                sum += d;
            return sum;
        }
    }

    internal void Drop(TurnDropReason reason) => _drops[(int)reason]++;
}
