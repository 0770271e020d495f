using Engine.Host.Sessions;
using Engine.Host.Transport;
using Engine.Rtp.Media;
using T = Engine.Host.Metrics.MediaTotal;

namespace Engine.Host.Metrics;

/// <summary>
/// The media side of /metrics: sessions and players by state, the media port's datagrams by kind,
/// media packets by kind, every drop by reason, feedback, RTMP outputs and pulls, and the RTT,
/// loss and jitter histograms. Everything comes from the snapshots the media thread publishes
/// (and the loop's counters, as /api/streams reads them); a timer samples the snapshots into the
/// histograms once a <see cref="SampleInterval"/>, whoever scrapes and how often.
/// </summary>
public sealed class PublishMetrics : IMetricsSource, IDisposable
{
    private static readonly string[] KindLabels = ["unknown", "stun", "zrtp", "dtls", "turn_channel_data", "rtp", "rtcp"];
    private static readonly string[] PublishStates = ["ice", "dtls", "connected", "media", "closed"];
    private static readonly string[] PlayStates = ["ice", "dtls", "waiting-keyframe", "media", "closed"];
    private static readonly string[] OutputStates = ["waiting_keyframe", "connecting", "reconnecting", "live", "retrying", "failed", "closed", "other"];
    private static readonly string[] PullStates = ["connecting", "ready", "ended", "failed"]; // as PullState
    private static readonly string[] VideoDropLabels = PublishStatus.VideoDropReasons.Select(r => SnakeCase(r.ToString())).ToArray();
    private static readonly string[] Media = ["audio", "video"];

    private readonly PublishService _service;
    private readonly Timer _timer;
    private readonly Dictionary<PublishSession, long[]> _previous = new();
    private readonly Lock _sampling = new();
    private long _round;

    // RTT in seconds (a LAN is ~1 ms, a continent ~100 ms, a bad mobile link ~1 s).
    private static readonly double[] RttBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2];
    // Loss as the fraction of a track's packets lost over one sample interval; le=0 counts the clean intervals.
    private static readonly double[] LossBuckets = [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
    // Interarrival jitter (RFC 3550 §6.4.1) in seconds: a few ms is normal, 50 ms and more hurts.
    private static readonly double[] JitterBuckets = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5];

    public MetricsHistogram PublishRtt { get; } = new(RttBuckets);
    public MetricsHistogram PlayRtt { get; } = new(RttBuckets);
    public MetricsHistogram AudioLoss { get; } = new(LossBuckets);
    public MetricsHistogram VideoLoss { get; } = new(LossBuckets);
    public MetricsHistogram AudioJitter { get; } = new(JitterBuckets);
    public MetricsHistogram VideoJitter { get; } = new(JitterBuckets);

    public TimeSpan SampleInterval { get; }

    public PublishMetrics(PublishService service, TimeSpan? sampleInterval = null)
    {
        _service = service;
        SampleInterval = sampleInterval ?? TimeSpan.FromSeconds(1);
        _timer = new Timer(_ => Sample(), null, SampleInterval, SampleInterval);
    }

    /// <summary>
    /// One histogram sample per live session from its last snapshot (HTTP-side, never media-thread
    /// state). Jitter and loss only for tracks that received packets since the previous sample.
    /// </summary>
    public void Sample()
    {
        if (!_sampling.TryEnter())
            return; // the previous round is still running
        try
        {
            long round = ++_round;
            foreach (var (_, session) in _service.Sessions)
            {
                var s = session.Status;
                if (s.State is not ("connected" or "media"))
                    continue;
                if (s.RttMicros >= 0)
                    PublishRtt.Observe(s.RttMicros / 1e6);
                var tracks = session.Tracks;
                if (!_previous.TryGetValue(session, out var prev) || prev.Length != 2 * s.Tracks.Length + 1)
                {
                    prev = new long[2 * s.Tracks.Length + 1];
                    for (int i = 0; i < s.Tracks.Length; i++)
                    {
                        prev[2 * i] = s.Tracks[i].Packets;
                        prev[2 * i + 1] = s.Tracks[i].PacketsLost;
                    }
                    _previous[session] = prev;
                    // The first sample has no interval yet: jitter is the only figure it can give.
                    for (int i = 0; i < s.Tracks.Length && i < tracks.Count; i++)
                        if (s.Tracks[i].Packets > 0)
                            (tracks[i].Kind == MediaKind.Video ? VideoJitter : AudioJitter).Observe(s.Tracks[i].JitterMillis / 1000);
                    prev[^1] = round;
                    continue;
                }
                prev[^1] = round;
                for (int i = 0; i < s.Tracks.Length && i < tracks.Count; i++)
                {
                    var t = s.Tracks[i];
                    long received = t.Packets - prev[2 * i], lost = t.PacketsLost - prev[2 * i + 1];
                    prev[2 * i] = t.Packets;
                    prev[2 * i + 1] = t.PacketsLost;
                    if (received <= 0)
                        continue;
                    bool video = tracks[i].Kind == MediaKind.Video;
                    (video ? VideoJitter : AudioJitter).Observe(t.JitterMillis / 1000);
                    // Duplicates make the cumulative loss go down (RFC 3550 §6.4.1): no loss then.
                    long expected = received + Math.Max(lost, 0);
                    (video ? VideoLoss : AudioLoss).Observe(Math.Clamp((double)Math.Max(lost, 0) / expected, 0, 1));
                }
            }
            foreach (var (_, player) in _service.Players)
            {
                var s = player.Status;
                if (s.State is ("media" or "waiting-keyframe") && s.RttMicros >= 0)
                    PlayRtt.Observe(s.RttMicros / 1e6);
            }
            List<PublishSession>? gone = null;
            foreach (var (session, prev) in _previous)
                if (prev[^1] != round)
                    (gone ??= new()).Add(session);
            if (gone != null)
                foreach (var session in gone)
                    _previous.Remove(session);
        }
        catch (Exception e)
        {
            Logging.Log.Error($"metrics sampling failed: {e.Message}");
        }
        finally
        {
            _sampling.Exit();
        }
    }

    public void Write(MetricsWriter w)
    {
        var totals = new MediaTotals();
        var scratch = new List<SinkOutputStatus>();
        var outputs = new List<SinkOutputStatus>();
        Span<long> publishStates = stackalloc long[PublishStates.Length];
        Span<long> playStates = stackalloc long[PlayStates.Length];
        Span<long> pullPlayStates = stackalloc long[PlayStates.Length];
        Span<long> outputStates = stackalloc long[OutputStates.Length];
        Span<long> pullStates = stackalloc long[PullStates.Length];
        // Under the service's lock a session is live or retired, never both: the sums only grow.
        lock (_service.MetricsLock)
        {
            totals.Add(_service.Retired);
            foreach (var (_, session) in _service.Sessions)
            {
                var s = session.Status;
                totals.AddPublish(s, session.Tracks, session.Sink, scratch);
                publishStates[Index(PublishStates, session.IsClosed ? "closed" : s.State)]++;
                outputs.AddRange(scratch);
                scratch.Clear();
            }
            foreach (var (_, player) in _service.Players)
            {
                var s = player.Status;
                totals.AddPlay(s, player.Tracks);
                playStates[Index(PlayStates, s.State)]++;
            }
            foreach (var (_, player) in _service.PullPlayers)
            {
                totals.AddPull(player);
                pullPlayStates[Index(PlayStates, player.State)]++;
            }
        }
        foreach (var o in outputs)
            outputStates[OutputState(o.State)]++;
        _service.Pulls.CountStates(pullStates);

        w.Family("engine_publish_sessions", "Publish sessions (WHIP, legacy WebSocket) by state", MetricType.Gauge);
        for (int i = 0; i < PublishStates.Length; i++)
            w.Sample("engine_publish_sessions", "state", PublishStates[i], publishStates[i]);
        w.Family("engine_players", "Players (WHEP, legacy sendSdpPull) by source and state", MetricType.Gauge);
        for (int i = 0; i < PlayStates.Length; i++)
            w.Sample("engine_players", "source", "webrtc", "state", PlayStates[i], playStates[i]);
        for (int i = 0; i < PlayStates.Length; i++)
            w.Sample("engine_players", "source", "rtmp_pull", "state", PlayStates[i], pullPlayStates[i]);

        WriteMediaPort(w, _service.Loop);

        w.Family("engine_media_packets_total", "RTP media packets received from publishers (in) and sent to players (out), by media", MetricType.Counter);
        for (int k = 0; k < 2; k++)
            w.Sample("engine_media_packets_total", "direction", "in", "media", Media[k], totals.Of(T.InPacketsAudio, k == 1));
        for (int k = 0; k < 2; k++)
            w.Sample("engine_media_packets_total", "direction", "out", "media", Media[k], totals.Of(T.OutPacketsAudio, k == 1));
        w.Family("engine_media_bytes_total", "RTP payload bytes received from publishers (in) and sent to players (out), by media", MetricType.Counter);
        for (int k = 0; k < 2; k++)
            w.Sample("engine_media_bytes_total", "direction", "in", "media", Media[k], totals.Of(T.InBytesAudio, k == 1));
        for (int k = 0; k < 2; k++)
            w.Sample("engine_media_bytes_total", "direction", "out", "media", Media[k], totals.Of(T.OutBytesAudio, k == 1));
        w.Family("engine_media_frames_received_total", "Frames assembled from publishers' RTP, by media", MetricType.Counter);
        for (int k = 0; k < 2; k++)
            w.Sample("engine_media_frames_received_total", "media", Media[k], totals.Of(T.InFramesAudio, k == 1));
        w.Counter("engine_keyframes_received_total", "Video keyframes assembled from publishers", totals[T.Keyframes]);
        w.Family("engine_rtcp_packets_total", "RTCP compound packets of sessions, by direction and role", MetricType.Counter);
        w.Sample("engine_rtcp_packets_total", "direction", "in", "role", "publish", totals[T.PublishRtcpIn]);
        w.Sample("engine_rtcp_packets_total", "direction", "out", "role", "publish", totals[T.PublishRtcpOut]);
        w.Sample("engine_rtcp_packets_total", "direction", "in", "role", "play", totals[T.PlayRtcpIn]);
        w.Sample("engine_rtcp_packets_total", "direction", "out", "role", "play", totals[T.PlayRtcpOut]);
        w.Counter("engine_rtx_packets_received_total", "RTX packets (RFC 4588) received from publishers", totals[T.PublishRtx]);
        w.Counter("engine_rtx_padding_packets_total", "RTX packets with no original inside (bandwidth probes), received from publishers", totals[T.PublishRtxPadding]);
        w.Counter("engine_ice_checks_total", "ICE connectivity checks publish sessions answered", totals[T.IceChecks]);

        w.Family("engine_nacks_total", "Generic NACKs (RFC 4585 §6.2.1): sent to publishers, received from players", MetricType.Counter);
        w.Sample("engine_nacks_total", "direction", "sent", totals[T.NacksSent]);
        w.Sample("engine_nacks_total", "direction", "received", totals[T.NacksReceived]);
        w.Counter("engine_nack_recovered_packets_total", "Publishers' packets that arrived after we NACKed them", totals[T.NackRecovered]);
        w.Family("engine_keyframe_requests_total", "PLIs and FIRs: sent to publishers, received from players", MetricType.Counter);
        w.Sample("engine_keyframe_requests_total", "type", "pli", "direction", "sent", totals[T.PlisSent]);
        w.Sample("engine_keyframe_requests_total", "type", "fir", "direction", "sent", totals[T.FirsSent]);
        w.Sample("engine_keyframe_requests_total", "type", "pli", "direction", "received", totals[T.PlisReceived]);
        w.Sample("engine_keyframe_requests_total", "type", "fir", "direction", "received", totals[T.FirsReceived]);
        w.Counter("engine_retransmitted_packets_total", "Packets retransmitted to players after their NACKs", totals[T.Retransmissions]);

        w.Family("engine_publish_drops_total", "What publish sessions dropped, by reason", MetricType.Counter);
        PublishDrop(w, "wrong_path", totals[T.DroppedWrongPath]);
        PublishDrop(w, "not_rtp_rtcp", totals[T.DroppedUnknown]);
        PublishDrop(w, "malformed", totals[T.DroppedMalformed]);
        PublishDrop(w, "unknown_ssrc", totals[T.DroppedUnknownSsrc]);
        PublishDrop(w, "second_ssrc", totals[T.DroppedSecondSsrc]);
        PublishDrop(w, "rtx_before_media", totals[T.DroppedRtxBeforeMedia]);
        PublishDrop(w, "srtp_auth_failed", totals[T.SrtpAuthFailed]);
        PublishDrop(w, "srtp_replayed", totals[T.SrtpReplayed]);
        PublishDrop(w, "srtp_other", totals[T.SrtpOther]);
        PublishDrop(w, "simulated_loss", totals[T.PublishSimulatedLoss]);
        PublishDrop(w, "ice_bad_integrity", totals[T.IceBadIntegrity]);
        PublishDrop(w, "ice_wrong_username", totals[T.IceWrongUsername]);
        PublishDrop(w, "dtls_record", totals[T.DtlsRecordsDropped]);
        PublishDrop(w, "transmit_queue_full", totals[T.TransmitDropped]);
        PublishDrop(w, "sender_report_rejected", totals[T.SenderReportsRejected]);
        w.Family("engine_receive_video_drops_total", "What the publishers' video depacketizers dropped (frames; packets for malformed and unsupported), by reason", MetricType.Counter);
        for (int r = 0; r < VideoDropLabels.Length; r++)
            w.Sample("engine_receive_video_drops_total", "reason", VideoDropLabels[r], totals.VideoDrops[r]);
        w.Family("engine_play_drops_total", "What players dropped or refused, by source and reason", MetricType.Counter);
        w.Sample("engine_play_drops_total", "source", "webrtc", "reason", "write_refused", totals[T.WritesRefused]);
        w.Sample("engine_play_drops_total", "source", "webrtc", "reason", "before_keyframe", totals[T.PlayDroppedBeforeKeyframe]);
        w.Sample("engine_play_drops_total", "source", "webrtc", "reason", "srtp_failure", totals[T.PlaySrtpFailures]);
        w.Sample("engine_play_drops_total", "source", "webrtc", "reason", "simulated_loss", totals[T.PlaySimulatedLoss]);
        w.Sample("engine_play_drops_total", "source", "rtmp_pull", "reason", "before_keyframe", totals[T.PullDroppedBeforeKeyframe]);

        w.Family("engine_rtt_seconds", "Round-trip time of sessions, sampled from their snapshots once a second", MetricType.Histogram);
        w.HistogramSeries("engine_rtt_seconds", PublishRtt, "role", "publish");
        w.HistogramSeries("engine_rtt_seconds", PlayRtt, "role", "play");
        w.Family("engine_loss_ratio", "Fraction of a publisher track's packets lost over each one-second sample", MetricType.Histogram);
        w.HistogramSeries("engine_loss_ratio", AudioLoss, "media", "audio");
        w.HistogramSeries("engine_loss_ratio", VideoLoss, "media", "video");
        w.Family("engine_jitter_seconds", "Interarrival jitter of publisher tracks (RFC 3550 §6.4.1), sampled once a second", MetricType.Histogram);
        w.HistogramSeries("engine_jitter_seconds", AudioJitter, "media", "audio");
        w.HistogramSeries("engine_jitter_seconds", VideoJitter, "media", "video");

        w.Family("engine_rtmp_outputs", "RTMP (and FLV file) outputs of live publishers, by state", MetricType.Gauge);
        for (int i = 0; i < OutputStates.Length; i++)
            w.Sample("engine_rtmp_outputs", "state", OutputStates[i], outputStates[i]);
        w.Counter("engine_rtmp_output_reconnects_total", "RTMP output reconnections", totals[T.OutputReconnects]);
        w.Family("engine_rtmp_output_frames_total", "Frames written to RTMP outputs, by media", MetricType.Counter);
        w.Sample("engine_rtmp_output_frames_total", "media", "audio", totals[T.OutputAudioFrames]);
        w.Sample("engine_rtmp_output_frames_total", "media", "video", totals[T.OutputVideoFrames]);
        w.Family("engine_rtmp_output_drops_total", "What RTMP outputs dropped (a slow server), by unit", MetricType.Counter);
        w.Sample("engine_rtmp_output_drops_total", "unit", "frame", totals[T.OutputFramesDropped]);
        w.Sample("engine_rtmp_output_drops_total", "unit", "gop", totals[T.OutputGopsDropped]);
        w.Family("engine_rtmp_pulls", "RTMP pulls (RTMP2RTPBASEURL) held, by state", MetricType.Gauge);
        for (int i = 0; i < PullStates.Length; i++)
            w.Sample("engine_rtmp_pulls", "state", PullStates[i], pullStates[i]);
        w.Counter("engine_rtmp_pulls_started_total", "RTMP pulls started", _service.Pulls.PullsStarted);
        w.Family("engine_rtmp_pull_frames_sent_total", "Frames sent to players from RTMP pulls, by media", MetricType.Counter);
        w.Sample("engine_rtmp_pull_frames_sent_total", "media", "audio", totals[T.PullAudioFramesSent]);
        w.Sample("engine_rtmp_pull_frames_sent_total", "media", "video", totals[T.PullVideoFramesSent]);
        w.Counter("engine_rtmp_pull_gop_replays_total", "Cached GOPs replayed to joining players of RTMP pulls", totals[T.PullReplays]);
    }

    private static void PublishDrop(MetricsWriter w, string reason, long value) => w.Sample("engine_publish_drops_total", "reason", reason, value);

    /// <summary>The one UDP media port: its counters are the loop's own (read as /api/streams reads them), monotonic for the process.</summary>
    private static void WriteMediaPort(MetricsWriter w, MediaLoop loop)
    {
        var c = loop.Counters;
        w.Family("engine_udp_datagrams_total", "Datagrams on the UDP media port by direction and RFC 7983 kind (rtp and rtcp are SRTP and SRTCP)", MetricType.Counter);
        for (int k = 0; k < MediaLoopCounters.KindCount; k++)
            w.Sample("engine_udp_datagrams_total", "direction", "in", "kind", KindLabels[k], Volatile.Read(ref c.ReceivedByKind[k]));
        for (int k = 0; k < MediaLoopCounters.KindCount; k++)
            w.Sample("engine_udp_datagrams_total", "direction", "out", "kind", KindLabels[k], Volatile.Read(ref c.SentByKind[k]));
        w.Family("engine_udp_bytes_total", "UDP payload bytes on the media port by direction and RFC 7983 kind", MetricType.Counter);
        for (int k = 0; k < MediaLoopCounters.KindCount; k++)
            w.Sample("engine_udp_bytes_total", "direction", "in", "kind", KindLabels[k], Volatile.Read(ref c.ReceivedBytesByKind[k]));
        for (int k = 0; k < MediaLoopCounters.KindCount; k++)
            w.Sample("engine_udp_bytes_total", "direction", "out", "kind", KindLabels[k], Volatile.Read(ref c.SentBytesByKind[k]));
        w.Family("engine_media_port_drops_total", "What the media loop dropped before any session, by reason", MetricType.Counter);
        w.Sample("engine_media_port_drops_total", "reason", "unknown_ufrag", Volatile.Read(ref c.DroppedUnknownUfrag));
        w.Sample("engine_media_port_drops_total", "reason", "unknown_address", Volatile.Read(ref c.DroppedUnknownAddress));
        w.Sample("engine_media_port_drops_total", "reason", "unknown_kind", Volatile.Read(ref c.DroppedUnknownKind));
        w.Sample("engine_media_port_drops_total", "reason", "bad_address", Volatile.Read(ref c.DroppedBadAddress));
        w.Sample("engine_media_port_drops_total", "reason", "receive_error", Volatile.Read(ref c.ReceiveErrors));
        w.Sample("engine_media_port_drops_total", "reason", "send_error", Volatile.Read(ref c.SendErrors));
        w.Counter("engine_session_faults_total", "Sessions the media loop dropped after an exception in them", Volatile.Read(ref c.SessionFaults));
        w.Family("engine_media_loop_syscalls_total", "recvmmsg and sendmmsg calls of the media loop", MetricType.Counter);
        w.Sample("engine_media_loop_syscalls_total", "call", "recvmmsg", Volatile.Read(ref c.ReceiveCalls));
        w.Sample("engine_media_loop_syscalls_total", "call", "sendmmsg", Volatile.Read(ref c.SendCalls));
        w.Gauge("engine_media_loop_sessions", "Sessions on the media loop", loop.SessionCount);
        w.Counter("engine_media_loop_allocated_bytes_total", "Bytes the media-loop thread has allocated", loop.AllocatedBytes);
    }

    private static int Index(string[] states, string state)
    {
        int i = Array.IndexOf(states, state);
        return i >= 0 ? i : states.Length - 1;
    }

    /// <summary>The output states are free text ("failed: ...", "retrying in 500 ms: ..."): folded to a fixed set.</summary>
    private static int OutputState(string state)
    {
        if (state.StartsWith("waiting", StringComparison.Ordinal)) return 0;
        if (state == "connecting") return 1;
        if (state == "reconnecting") return 2;
        if (state == "live") return 3;
        if (state.StartsWith("retrying", StringComparison.Ordinal)) return 4;
        if (state.StartsWith("failed", StringComparison.Ordinal)) return 5;
        if (state == "closed") return 6;
        return 7;
    }

    internal static string SnakeCase(string pascal)
    {
        var sb = new System.Text.StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0)
                sb.Append('_');
            sb.Append(char.ToLowerInvariant(pascal[i]));
        }
        return sb.ToString();
    }

    public void Dispose() => _timer.Dispose();
}
