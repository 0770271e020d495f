namespace Engine.Host.Peers;

/// <summary>What a <see cref="Peer"/> dropped or did, each drop with its reason. Media-thread only.</summary>
public sealed class PeerCounters
{
    public long RtpReceived { get; internal set; }
    public long RtxReceived { get; internal set; }
    public long RtcpReceived { get; internal set; }
    public long RtpSent { get; internal set; }
    public long RtcpSent { get; internal set; }
    public long DroppedWrongPath { get; internal set; }
    public long DroppedUnknownSsrc { get; internal set; }
    public long DroppedMalformed { get; internal set; }
    public long DroppedUnknown { get; internal set; }
    /// <summary>SRTP/SRTCP unprotect or protect failures (auth, replay, no context).</summary>
    public long SrtpFailures { get; internal set; }
    /// <summary>Events lost because nobody polled (queue full) and frames over the frame buffer.</summary>
    public long EventsDropped { get; internal set; }
    /// <summary>WriteFrame/WriteRtp refused: not connected, bad track, codec without packetizer, rewriter drop.</summary>
    public long WritesRefused { get; internal set; }
    /// <summary>Media packets dropped on purpose as they left (<see cref="PeerConfig.SimulatedSendLossPercent"/>).</summary>
    public long SimulatedSendLoss { get; internal set; }
}
