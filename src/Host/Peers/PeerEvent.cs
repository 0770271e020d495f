using Engine.Rtp.Media;

namespace Engine.Host.Peers;

/// <summary>
/// One output of a <see cref="Peer"/>. Frame bytes and feedback results live in the peer's
/// buffers, valid until the next call into that peer (<see cref="Peer.GetFrameData"/>,
/// <see cref="Peer.GetFeedback"/>); the struct itself holds no references except a constant reason.
/// </summary>
public readonly struct PeerEvent
{
    internal PeerEvent(PeerEventKind kind, int track, string? reason = null)
    {
        Kind = kind;
        Track = track;
        Reason = reason;
    }

    public PeerEventKind Kind { get; }
    /// <summary>Receive track for frames; send track for keyframe requests and reports; -1 otherwise.</summary>
    public int Track { get; }
    /// <summary>Why the peer closed (a constant string); null for other kinds.</summary>
    public string? Reason { get; }

    // FrameReceived
    public MediaCodec Codec { get; init; }
    public uint RtpTimestamp { get; init; }
    public bool IsKeyframe { get; init; }
    public long ArrivalMicros { get; init; }
    internal int DataOffset { get; init; }
    internal int DataLength { get; init; }

    // ReceiverReport
    /// <summary>From the report's LSR/DLSR; -1 until an SR of ours was reported.</summary>
    public long RttMicros { get; init; }
    /// <summary>Fraction lost since the previous report, out of 256 (RFC 3550 §6.4.1).</summary>
    public byte FractionLost { get; init; }
    public int CumulativeLost { get; init; }
    public uint Jitter { get; init; }

    // TransportFeedback
    internal int FeedbackOffset { get; init; }
    /// <summary>Packets in the feedback we still knew (<see cref="Peer.GetFeedback"/>'s length).</summary>
    public int FeedbackCount { get; init; }
}
