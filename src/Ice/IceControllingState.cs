namespace Engine.Ice;

/// <summary>Where an <see cref="IceControllingAgent"/> stands with its one candidate pair.</summary>
public enum IceControllingState
{
    /// <summary>Sending checks, no valid response yet.</summary>
    Checking,
    /// <summary>A check succeeded with USE-CANDIDATE: the pair is nominated and consent is being kept.</summary>
    Connected,
    /// <summary>No valid response within the retransmissions (or an error response): the pair failed.</summary>
    Failed,
}
