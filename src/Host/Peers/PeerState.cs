namespace Engine.Host.Peers;

public enum PeerState
{
    /// <summary>ICE and DTLS under way.</summary>
    Connecting,
    /// <summary>SRTP keyed: media flows both ways.</summary>
    Connected,
    /// <summary>Ended (close_notify either way, ICE failure, consent lost, DTLS failure); nothing more is sent except the close.</summary>
    Closed,
}
