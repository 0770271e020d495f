namespace Engine.Ice;

/// <summary>
/// ERROR-CODE values (class * 100 + number). RFC 8489 §14.8, ICE RFC 8445 §7.3.1.1,
/// TURN RFC 8656 §18.
/// </summary>
public enum StunErrorCode : ushort
{
    TryAlternate = 300,
    BadRequest = 400,
    Unauthorized = 401,
    Forbidden = 403,
    UnknownAttribute = 420,
    AllocationMismatch = 437,
    StaleNonce = 438,
    AddressFamilyNotSupported = 440,
    WrongCredentials = 441,
    UnsupportedTransportProtocol = 442,
    PeerAddressFamilyMismatch = 443,
    // RFC 6062 §6.3
    ConnectionAlreadyExists = 446,
    ConnectionTimeoutOrFailure = 447,
    AllocationQuotaReached = 486,
    RoleConflict = 487,
    ServerError = 500,
    InsufficientCapacity = 508,
}
