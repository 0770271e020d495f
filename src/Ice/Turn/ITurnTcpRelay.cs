namespace Engine.Ice.Turn;

/// <summary>
/// The host side of TCP allocations (RFC 6062): the core decides, the host owns the sockets. All
/// calls come on the thread that drives the <see cref="TurnServer"/>; none may block it. Results
/// of what takes time (an outgoing connect) come back through the server's Handle* methods.
/// </summary>
public interface ITurnTcpRelay
{
    /// <summary>A relayed transport address with a TCP listener behind it (RFC 6062 §5.1); false when none is free.</summary>
    bool TryListen(bool ipv6, out NetAddress relayAddress);

    /// <summary>The allocation behind this address ended: close its listener.</summary>
    void CloseListener(in NetAddress relayAddress);

    /// <summary>
    /// Open a TCP connection from <paramref name="relayAddress"/> to <paramref name="peer"/> (RFC 6062 §5.2)
    /// and report the outcome with <see cref="TurnServer.HandlePeerConnectResult"/>, within 30 s or more.
    /// </summary>
    void Connect(uint connectionId, in NetAddress relayAddress, in NetAddress peer);

    /// <summary>
    /// ConnectionBind succeeded (RFC 6062 §5.4): after the success response the core is returning now,
    /// the client data connection <paramref name="dataConnection"/> and the peer connection carry each
    /// other's bytes as they are. Either side closing ends both; the host then calls
    /// <see cref="TurnServer.HandleTcpConnectionClosed"/> or <see cref="TurnServer.CloseConnection"/>.
    /// </summary>
    void Splice(uint connectionId, in TurnFiveTuple dataConnection);

    /// <summary>The core ended this connection (bind timeout, allocation gone): close the peer side and its data connection. Idempotent.</summary>
    void Close(uint connectionId);
}
