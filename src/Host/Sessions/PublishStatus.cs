using Engine.Ice;
using Engine.Srtp;

namespace Engine.Host.Sessions;

/// <summary>
/// What /api/streams shows of a publish session, copied on the media thread at a timer tick or a
/// state change and published whole (<see cref="System.Threading.Volatile"/>): HTTP threads read
/// only this, never the session's live state. Immutable once published.
/// </summary>
internal sealed class PublishStatus
{
    /// <summary>One receive track's figures at the snapshot.</summary>
    internal readonly record struct Track(uint Ssrc, long Packets, long Bytes, long Frames, long Keyframes, long FramesDropped,
        int Width, int Height, long NacksSent, long NackRecovered, long PlisSent, long PacketsLost, double JitterMillis,
        long SenderReportsRejected, string? H264Profile, uint RtxSsrc);

    public required string State { get; init; }
    public NetAddress? Remote { get; init; }
    public SrtpProfile? SrtpProfile { get; init; }
    public long RttMicros { get; init; } = -1;
    /// <summary>The last REMB sent (the receive-side estimate, or the fixed cap), -1 before the first.</summary>
    public long RembBps { get; init; } = -1;
    public required Track[] Tracks { get; init; }

    public long RtpPackets { get; init; }
    public long RtxPackets { get; init; }
    public long RtxPadding { get; init; }
    public long RtcpPackets { get; init; }
    public long RtcpSent { get; init; }
    public long DroppedWrongPath { get; init; }
    public long DroppedUnknown { get; init; }
    public long DroppedMalformed { get; init; }
    public long DroppedUnknownSsrc { get; init; }
    public long DroppedSecondSsrc { get; init; }
    public long DroppedRtxBeforeMedia { get; init; }
    public long SrtpAuthFailed { get; init; }
    public long SrtpReplayed { get; init; }
    public long SrtpOther { get; init; }
    public long? SimulatedLoss { get; init; }
    public long IceChecks { get; init; }
    public long IceBadIntegrity { get; init; }
    public long IceWrongUsername { get; init; }
    public long DtlsRecordsDropped { get; init; }
    public long TransmitDropped { get; init; }
    /// <summary>The depacketizers' drops summed over the tracks, indexed as <see cref="VideoDropReasons"/>.</summary>
    public long[] VideoDrops { get; init; } = new long[VideoDropReasons.Length];
    public long FirsSent { get; init; }

    internal static readonly Engine.Rtp.Video.VideoDropReason[] VideoDropReasons = Enum.GetValues<Engine.Rtp.Video.VideoDropReason>();
}
