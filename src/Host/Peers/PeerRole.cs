namespace Engine.Host.Peers;

/// <summary>Which end of the connection a <see cref="Peer"/> is.</summary>
public enum PeerRole
{
    /// <summary>The server end: ICE-lite answerer, DTLS server (as a browser's publish session today).</summary>
    IceLiteServer,
    /// <summary>The client end: ICE controlling agent that nominates the one remote candidate, DTLS client.</summary>
    ControllingClient,
}
