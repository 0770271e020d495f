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
}
