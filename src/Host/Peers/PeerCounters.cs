namespace Engine.Host.Peers;

/// <summary>What a <see cref="Peer"/> dropped or did, each drop with its reason. Media-thread only.</summary>
public sealed class PeerCounters
{
    public long RtpReceived { get; internal set; }
    public long RtxReceived { get; internal set; }
    public long RtcpReceived { get; internal set; }
    public long RtpSent { get; internal set; }
    public long RtcpSent { get; internal set; }
    /// <summary>FIRs sent after unanswered PLIs (RFC 5104 §4.3.1).</summary>
    public long FirsSent { get; internal set; }
    public long DroppedWrongPath { get; internal set; }
    public long DroppedUnknownSsrc { get; internal set; }
    /// <summary>A second media SSRC on a track already bound to one (an unnegotiated simulcast layer): counted, not decoded.</summary>
    public long DroppedSecondSsrc { get; internal set; }
    /// <summary>RTX before its media SSRC was known (nothing to map the OSN onto).</summary>
    public long DroppedRtxBeforeMedia { get; internal set; }
    /// <summary>RTX packets with no original inside (RFC 4588 §4: bandwidth-probe padding): never reach the media stream.</summary>
    public long RtxPadding { get; internal set; }
    public long DroppedMalformed { get; internal set; }
    public long DroppedUnknown { get; internal set; }
    /// <summary>SRTP/SRTCP unprotect or protect failures (auth, replay, no context).</summary>
    public long SrtpFailures { get; internal set; }
    /// <summary>Of <see cref="SrtpFailures"/>, received packets whose tag did not authenticate.</summary>
    public long SrtpAuthFailed { get; internal set; }
    /// <summary>Of <see cref="SrtpFailures"/>, received packets replayed or older than the window.</summary>
    public long SrtpReplayed { get; internal set; }

    /// <summary>Events lost because nobody polled (queue full) and frames over the frame buffer.</summary>
    public long EventsDropped { get; internal set; }
    /// <summary>WriteFrame/WriteRtp refused: not connected, bad track, codec without packetizer, rewriter drop.</summary>
    public long WritesRefused { get; internal set; }
    /// <summary>Media packets dropped on purpose as they left (<see cref="PeerConfig.SimulatedSendLossPercent"/>).</summary>
    public long SimulatedSendLoss { get; internal set; }
    /// <summary>REMB packets we sent (fixed cap in the receiver report, or the receive-side estimate).</summary>
    public long RembSent { get; internal set; }
    /// <summary>REMB packets the remote sent us.</summary>
    public long RembReceived { get; internal set; }
    /// <summary>Times video paused (the send-side target fell under <see cref="Peer.VideoPauseBps"/>) and resumed.</summary>
    public long VideoPauses { get; internal set; }
    public long VideoResumes { get; internal set; }
    /// <summary>Video writes refused while video was paused.</summary>
    public long VideoPausedDrops { get; internal set; }
}
