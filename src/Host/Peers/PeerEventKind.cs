namespace Engine.Host.Peers;

public enum PeerEventKind : byte
{
    /// <summary>ICE, DTLS and SRTP are up.</summary>
    Connected,
    /// <summary>The peer ended; <see cref="PeerEvent.Reason"/> says why. The last event.</summary>
    Closed,
    /// <summary>A frame of receive track <see cref="PeerEvent.Track"/>: read it with <see cref="Peer.GetFrameData"/>.</summary>
    FrameReceived,
    /// <summary>The remote asked for a keyframe (PLI or new FIR) on send track <see cref="PeerEvent.Track"/>.</summary>
    KeyframeRequested,
    /// <summary>A report block about send track <see cref="PeerEvent.Track"/>: RTT, loss, jitter.</summary>
    ReceiverReport,
    /// <summary>Transport-wide feedback matched to what we sent: read it with <see cref="Peer.GetFeedback"/>.</summary>
    TransportFeedback,
}
