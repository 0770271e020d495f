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
}
