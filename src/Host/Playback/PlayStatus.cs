using Engine.Ice;

namespace Engine.Host.Playback;

/// <summary>
/// What /api/streams shows of a player, copied on the media thread at a timer tick or a state
/// change and published whole: HTTP threads read only this. Immutable once published.
/// </summary>
internal sealed class PlayStatus
{
    /// <summary>One send track's figures at the snapshot; the loss is the player's last receiver report (RFC 3550 §6.4.1), FramesSent counts video marker bits.</summary>
    internal readonly record struct Track(long PacketsSent, long BytesSent, long NacksReceived, long Retransmissions, long PlisReceived, long FirsReceived,
        long FramesSent, long PacketsLost, byte FractionLost);

    public required string State { get; init; }
    public NetAddress? Remote { get; init; }
    public required Track[] Tracks { get; init; }
    /// <summary>From the player's receiver reports, -1 before the first.</summary>
    public long RttMicros { get; init; } = -1;
    public long RtpSent { get; init; }
    public long RtcpSent { get; init; }
    public long RtcpReceived { get; init; }
    public long WritesRefused { get; init; }
    public long DroppedBeforeKeyframe { get; init; }
    public long SrtpFailures { get; init; }
    /// <summary>Media packets dropped on purpose as they left ([RTP] RTP_PLAY_LOSS).</summary>
    public long SimulatedLoss { get; init; }
    /// <summary>The send-side estimate (what this player's path carries), -1 when none runs.</summary>
    public long TargetBps { get; init; } = -1;
    /// <summary>The peer's congestion-controlled pacer (false: per-stream burst pacing, no transport-cc).</summary>
    public bool Paced { get; init; }
    public long PacerQueueMicros { get; init; }
    public long PacerDropped { get; init; }
    public long ProbesSent { get; init; }
    public long ProbePaddingSent { get; init; }
    public bool VideoPaused { get; init; }
    public long VideoPauses { get; init; }
    public long DroppedWhilePaused { get; init; }
}
