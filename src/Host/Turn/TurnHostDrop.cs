namespace Engine.Host.Turn;

/// <summary>Why the TURN host (not the core) dropped something; each is counted in <see cref="TurnHostCounters"/>.</summary>
public enum TurnHostDrop
{
    ReceiveError,
    SendError,
    BadAddress,
    TooLarge,
    StunDisabled,
    ConnectionGone,
    InboxFull,
    OutboxFull,
    NotTurnStream,
    TlsHandshakeFailed,
    ConnectionError,
    TooManyConnections,
    AcceptError,
    NoRelayPort,
    PollError,
    Fault,
    /// <summary>A TCP/TLS connection held no allocation for max-allocate-timeout (idle, or Binding only).</summary>
    IdleTimeout,
    /// <summary>A TCP/TLS connection refused: its source IP already had the most connections allowed.</summary>
    TooManyConnectionsFromIp,
    /// <summary>An RFC 6062 splice (client data connection and peer connection) ended with an error or a reset.</summary>
    SpliceError,
}
