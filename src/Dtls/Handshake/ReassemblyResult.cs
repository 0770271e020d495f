namespace Engine.Dtls.Handshake;

public enum ReassemblyResult
{
    Buffered,
    /// <summary>A message we already processed: the peer retransmitted its flight.</summary>
    Old,
    Duplicate,
    TooFarAhead,
    TooLarge,
    /// <summary>Fragments of one message_seq disagree on type or length.</summary>
    Inconsistent,
}
