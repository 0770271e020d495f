namespace Engine.Ice.Turn;

/// <summary>Why a <see cref="TurnServer"/> dropped input; each is counted in <see cref="TurnCounters"/>.</summary>
public enum TurnDropReason
{
    Malformed,
    BadFingerprint,
    NotARequest,
    NoAllocation,
    NoPermission,
    NoChannel,
    ForbiddenPeer,
    PeerFamilyMismatch,
    BandwidthExceeded,
    RateLimited,
    OutputTooSmall,
    /// <summary>A Send indication on a TCP allocation (RFC 6062: its data goes over data connections).</summary>
    TcpAllocation,
    /// <summary>A peer connected to a TCP allocation that already has the most peer connections allowed.</summary>
    TcpConnectionLimit,
}
