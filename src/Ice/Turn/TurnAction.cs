namespace Engine.Ice.Turn;

/// <summary>What the host does with the bytes a <see cref="TurnServer"/> call wrote.</summary>
public enum TurnAction : byte
{
    /// <summary>Nothing to send (handled, or dropped and counted).</summary>
    None,
    /// <summary>Send the output to the client's 5-tuple.</summary>
    ToClient,
    /// <summary>Send the output from the relayed address to the peer.</summary>
    ToPeer,
}
