namespace Engine.Ice;

/// <summary>What <see cref="IceLiteAgent.HandleStun"/> made of a datagram; every drop has a counter.</summary>
public enum IceCheckResult
{
    /// <summary>A valid binding request: a success response was written.</summary>
    Answered,
    /// <summary>A valid request we refuse (420 unknown attribute, 487 role conflict): an error response was written.</summary>
    ErrorAnswered,
    /// <summary>Not a well-formed STUN binding request, or a bad FINGERPRINT.</summary>
    Malformed,
    /// <summary>USERNAME is not "ourUfrag:theirUfrag".</summary>
    WrongUsername,
    /// <summary>MESSAGE-INTEGRITY missing or not made with our password.</summary>
    BadIntegrity,
    /// <summary>Indications and responses: an ICE-lite agent sends no requests, so expects none of these.</summary>
    Ignored,
}
