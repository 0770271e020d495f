namespace Engine.Ice.Turn;

/// <summary>One peer connection of a TCP allocation (RFC 6062 §5), from Connect or accepted on the relayed address.</summary>
internal sealed class TurnTcpConnection(uint id, TurnAllocation allocation, NetAddress peer)
{
    public enum Phase : byte
    {
        /// <summary>Connect asked the host to open it; the Connect response waits for the outcome.</summary>
        Connecting,
        /// <summary>Open, waiting 30 s for a ConnectionBind (RFC 6062 §5.2, §5.3).</summary>
        Pending,
        /// <summary>Spliced to a client data connection.</summary>
        Bound,
    }

    public readonly uint Id = id;
    public readonly TurnAllocation Allocation = allocation;
    public readonly NetAddress Peer = peer;
    public Phase State;
    /// <summary>While Pending: when it is closed if no ConnectionBind came.</summary>
    public long BindDeadlineMicros = long.MaxValue;
    /// <summary>While Connecting: the Connect request's transaction id and whether it had FINGERPRINT, for the late answer.</summary>
    public readonly byte[] ConnectTransactionId = new byte[12];
    public bool ConnectFingerprint;
    public TurnFiveTuple DataConnection;
}
