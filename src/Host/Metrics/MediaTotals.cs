using Engine.Host.Playback;
using Engine.Host.Sessions;
using Engine.Rtp.Media;
using T = Engine.Host.Metrics.MediaTotal;

namespace Engine.Host.Metrics;

/// <summary>
/// The per-session counters /metrics sums, from the sessions' published snapshots. Closed sessions
/// are folded into a retired total as they end, so the sums never go down (they are counters).
/// Not thread-safe: the owner locks.
/// </summary>
internal sealed class MediaTotals
{
    private readonly long[] _values = new long[(int)T.Count];

    /// <summary>Indexed by <see cref="Engine.Rtp.Video.VideoDropReason"/>.</summary>
    public readonly long[] VideoDrops = new long[PublishStatus.VideoDropReasons.Length];

    public long this[T counter] => _values[(int)counter];

    /// <summary>An ...Audio counter, or its ...Video neighbour.</summary>
    public long Of(T audioCounter, bool video) => _values[(int)audioCounter + (video ? 1 : 0)];

    private void Add(T counter, long value) => _values[(int)counter] += value;

    private void Add(T audioCounter, bool video, long value) => _values[(int)audioCounter + (video ? 1 : 0)] += value;

    public void AddPublish(PublishStatus s, IReadOnlyList<NegotiatedTrack> tracks, IEncodedFrameSink? sink, List<SinkOutputStatus> scratch)
    {
        for (int i = 0; i < s.Tracks.Length && i < tracks.Count; i++)
        {
            bool video = tracks[i].Kind == MediaKind.Video;
            var t = s.Tracks[i];
            Add(T.InPacketsAudio, video, t.Packets);
            Add(T.InBytesAudio, video, t.Bytes);
            Add(T.InFramesAudio, video, t.Frames);
            Add(T.NacksSent, t.NacksSent);
            Add(T.NackRecovered, t.NackRecovered);
            Add(T.PlisSent, t.PlisSent);
            Add(T.Keyframes, t.Keyframes);
            Add(T.SenderReportsRejected, t.SenderReportsRejected);
        }
        Add(T.PublishRtp, s.RtpPackets);
        Add(T.PublishRtx, s.RtxPackets);
        Add(T.PublishRtxPadding, s.RtxPadding);
        Add(T.PublishRtcpIn, s.RtcpPackets);
        Add(T.PublishRtcpOut, s.RtcpSent);
        Add(T.IceChecks, s.IceChecks);
        Add(T.FirsSent, s.FirsSent);
        Add(T.DroppedWrongPath, s.DroppedWrongPath);
        Add(T.DroppedUnknown, s.DroppedUnknown);
        Add(T.DroppedMalformed, s.DroppedMalformed);
        Add(T.DroppedUnknownSsrc, s.DroppedUnknownSsrc);
        Add(T.DroppedSecondSsrc, s.DroppedSecondSsrc);
        Add(T.DroppedRtxBeforeMedia, s.DroppedRtxBeforeMedia);
        Add(T.SrtpAuthFailed, s.SrtpAuthFailed);
        Add(T.SrtpReplayed, s.SrtpReplayed);
        Add(T.SrtpOther, s.SrtpOther);
        Add(T.PublishSimulatedLoss, s.SimulatedLoss ?? 0);
        Add(T.IceBadIntegrity, s.IceBadIntegrity);
        Add(T.IceWrongUsername, s.IceWrongUsername);
        Add(T.DtlsRecordsDropped, s.DtlsRecordsDropped);
        Add(T.TransmitDropped, s.TransmitDropped);
        for (int r = 0; r < VideoDrops.Length && r < s.VideoDrops.Length; r++)
            VideoDrops[r] += s.VideoDrops[r];
        if (sink is ISinkStatus status)
        {
            scratch.Clear();
            status.CollectStatus(scratch);
            foreach (var o in scratch)
            {
                Add(T.OutputVideoFrames, o.VideoFrames);
                Add(T.OutputAudioFrames, o.AudioFrames);
                Add(T.OutputFramesDropped, o.FramesDropped);
                Add(T.OutputGopsDropped, o.GopsDropped);
                Add(T.OutputReconnects, o.Reconnects);
            }
        }
    }

    public void AddPlay(PlayStatus s, IReadOnlyList<PlayTrack> tracks)
    {
        for (int i = 0; i < s.Tracks.Length && i < tracks.Count; i++)
        {
            bool video = tracks[i].Kind == MediaKind.Video;
            var t = s.Tracks[i];
            Add(T.OutPacketsAudio, video, t.PacketsSent);
            Add(T.OutBytesAudio, video, t.BytesSent);
            Add(T.NacksReceived, t.NacksReceived);
            Add(T.Retransmissions, t.Retransmissions);
            Add(T.PlisReceived, t.PlisReceived);
            Add(T.FirsReceived, t.FirsReceived);
        }
        Add(T.PlayRtp, s.RtpSent);
        Add(T.PlayRtcpOut, s.RtcpSent);
        Add(T.PlayRtcpIn, s.RtcpReceived);
        Add(T.WritesRefused, s.WritesRefused);
        Add(T.PlayDroppedBeforeKeyframe, s.DroppedBeforeKeyframe);
        Add(T.PlaySrtpFailures, s.SrtpFailures);
        Add(T.PlaySimulatedLoss, s.SimulatedLoss);
    }

    /// <summary>A pull player's counters are written by the media thread and read here without a lock (figures, not exact).</summary>
    public void AddPull(Pull.PullPlayer p)
    {
        Add(T.PullVideoFramesSent, Volatile.Read(ref p.VideoFramesSent));
        Add(T.PullAudioFramesSent, Volatile.Read(ref p.AudioFramesSent));
        Add(T.PullDroppedBeforeKeyframe, Volatile.Read(ref p.DroppedBeforeKeyframe));
        Add(T.PullReplays, Volatile.Read(ref p.Replays));
    }

    public void Add(MediaTotals other)
    {
        for (int i = 0; i < _values.Length; i++)
            _values[i] += other._values[i];
        for (int r = 0; r < VideoDrops.Length; r++)
            VideoDrops[r] += other.VideoDrops[r];
    }
}
