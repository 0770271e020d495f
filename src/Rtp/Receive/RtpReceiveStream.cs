using Engine.Rtp.Media;
using Engine.Rtp.Rtcp;
using Engine.Rtp.Video;

namespace Engine.Rtp.Receive;

/// <summary>
/// The receive pipeline of one incoming stream (one SSRC), after SRTP: statistics, NACK
/// bookkeeping, a reorder buffer bounded in time, the depacketizer, and the sender's clock (its
/// reports checked against arrival), ending in <see cref="IEncodedFrameSink"/>. It decides what feedback is due (NACKs, keyframe requests)
/// and the session sends it. Sans-IO; steady state allocates nothing.
/// Keyframe requests: a PLI as soon as the stream needs a keyframe (a frame lost for good that
/// had dependents, a downstream request, the start), repeated every RTT plus a margin but at least
/// every max interval until one arrives (counted from the last packet of a keyframe that is
/// arriving); after <see cref="PlisBeforeFir"/> unanswered PLIs, FIR and PLI alternate (a sender
/// may honour only one of them).
/// </summary>
public sealed class RtpReceiveStream
{
    private readonly int _trackIndex;
    private readonly IEncodedFrameSink _sink;
    private readonly RtpReorderBuffer? _reorder;
    private readonly VideoDepacketizer? _video;
    private readonly NackGenerator? _nack;
    private readonly SenderClock _clock;
    private SeqNoUnwrapper _unwrapper;
    private long _lastRequestMicros = long.MinValue;
    private int _requestsUnanswered;
    private long _rttMicros = 100_000;
    private long _backfillEnd = long.MinValue; // the first packet's number when earlier ones were asked for
    private bool _started;
    private bool _keyframeRequested;
    private int _h264ProfileBits = -1;

    public RtpReceiveStream(MediaCodec codec, int clockRate, int trackIndex, IEncodedFrameSink sink, bool useNack)
    {
        Codec = codec;
        ClockRate = clockRate;
        _trackIndex = trackIndex;
        _sink = sink;
        _clock = new SenderClock(clockRate);
        if (codec != MediaCodec.Opus)
            _reorder = new RtpReorderBuffer();
        if (useNack)
            _nack = new NackGenerator();
        _video = codec switch
        {
            MediaCodec.H264 => new H264Depacketizer(),
            MediaCodec.Vp8 => new Vp8Depacketizer(),
            MediaCodec.Vp9 => new Vp9Depacketizer(),
            _ => null,
        };
        Statistics = new RtpReceiveStatistics(0, clockRate);
    }

    public MediaCodec Codec { get; }
    public int ClockRate { get; }
    public uint Ssrc { get; private set; }
    public RtpReceiveStatistics Statistics { get; private set; }
    public long Frames { get; private set; }
    public long Keyframes { get; private set; }
    public long NacksSent { get; private set; }
    public long PlisSent { get; private set; }
    public long FirsSent { get; private set; }
    /// <summary>The command sequence number of the last FIR taken (RFC 5104 §4.3.1.1); each FIR is a new command.</summary>
    public byte FirSequenceNumber { get; private set; }
    /// <summary>Added to the RTT before a keyframe request is repeated: the sender's time to encode and send the keyframe.</summary>
    public long KeyframeRequestMarginMicros { get; set; } = 100_000;
    /// <summary>Unanswered PLIs before FIR is tried (0: never FIR, e.g. when the sender did not offer ccm fir).</summary>
    public int PlisBeforeFir { get; set; } = 3;
    /// <summary>Keyframe requests sent since the stream last needed none.</summary>
    public int KeyframeRequestsUnanswered => _requestsUnanswered;
    /// <summary>Sender reports not used for lip sync: before media, or disagreeing with arrival (see <see cref="SenderClock"/>).</summary>
    public long SenderReportsRejected => _clock.ReportsRejected;
    /// <summary>Frames the depacketizer dropped (incomplete, too large, or while waiting for a keyframe).</summary>
    public long FramesDropped => Drops(VideoDropReason.IncompleteFrame) + Drops(VideoDropReason.WaitingForKeyframe) + Drops(VideoDropReason.FrameTooLarge)
        + Drops(VideoDropReason.MissingReference) + Drops(VideoDropReason.MissingParameterSets);
    /// <summary>Frames the depacketizer dropped for one reason.</summary>
    public long FramesDroppedFor(VideoDropReason reason) => Drops(reason);

    private long Drops(VideoDropReason r) => _video?.DropCount(r) ?? 0;

    /// <summary>Sequence numbers the reorder buffer gave up waiting for.</summary>
    public long ReorderSkipped => _reorder?.SkippedPackets ?? 0;
    /// <summary>Held packets the reorder buffer threw away (a jump past its window).</summary>
    public long ReorderFlushed => _reorder?.FlushedPackets ?? 0;
    /// <summary>How long the reorder buffer waits for a missing packet (from the RTT; 0 for audio).</summary>
    public long ReorderHoldMicros => _reorder?.HoldMicros ?? 0;
    /// <summary>The next sequence number the reorder buffer waits for (16 bits, as on the wire).</summary>
    public ushort ReorderExpected => (ushort)(_reorder?.Expected ?? 0);
    /// <summary>Missing packets the NACK generator stopped asking for (retries, age, or a gap past its window).</summary>
    public long NackGivenUp => _nack?.GivenUp ?? 0;
    /// <summary>Packets that arrived after we NACKed them.</summary>
    public long NackRecovered => _nack?.RecoveredAfterNack ?? 0;
    public int Width { get; private set; }
    public int Height { get; private set; }
    /// <summary>The H.264 profile-level-id of the last SPS seen ("42e01f"), or null.</summary>
    public string? H264Profile { get; private set; }
    public bool IsVideo => Codec != MediaCodec.Opus;

    /// <summary>Video decoding waits for a keyframe (start, or a loss NACK could not repair).</summary>
    public bool NeedsKeyframe =>
        _video != null && (!_started || _keyframeRequested || _video.KeyframeWanted || (_nack?.KeyframeNeeded ?? false));

    /// <summary>A consumer downstream lost its place: ask for a keyframe (PLI) until one arrives.</summary>
    public void RequestKeyframe()
    {
        if (_video != null)
            _keyframeRequested = true;
    }

    /// <summary>One SRTP-authenticated RTP packet of this stream.</summary>
    public void OnRtp(in RtpPacketView packet, long nowMicros) => OnRtp(packet, nowMicros, retransmission: false);

    /// <summary>One SRTP-authenticated RTP packet; <paramref name="retransmission"/> for one unwrapped from RTX (it does not feed the jitter).</summary>
    public void OnRtp(in RtpPacketView packet, long nowMicros, bool retransmission)
    {
        long seq;
        if (!_started)
        {
            _started = true;
            Ssrc = packet.Ssrc;
            Statistics = new RtpReceiveStatistics(packet.Ssrc, ClockRate);
            seq = _unwrapper.Unwrap(packet.SequenceNumber);
            BackfillStart(packet.Payload, seq);
        }
        else
        {
            seq = _unwrapper.Unwrap(packet.SequenceNumber);
            if (seq < _backfillEnd && !packet.Payload.IsEmpty && _video!.PacketsMissingBefore(packet.Payload) == 0)
            {
                // A frame start came back from before the first packet: nothing older matters.
                _reorder!.SkipTo(seq);
                _nack!.ForgetBefore(seq);
                _backfillEnd = long.MinValue;
            }
        }
        Statistics.OnPacket(seq, packet.Timestamp, nowMicros, packet.Payload.Length, retransmission);
        _clock.OnPacket(packet.Timestamp, nowMicros);
        _nack?.OnPacket(seq, nowMicros);
        if (_reorder == null)
        {
            Depacketize(packet.Payload, seq, packet.Timestamp, packet.Marker, nowMicros);
            return;
        }
        if (_reorder.IsBeyondWindow(seq))
        {
            // Further ahead than the window: the oldest gaps are given up, but what is held behind them goes on.
            _reorder.MakeRoomFor(seq);
            DrainReorder(nowMicros);
        }
        switch (_reorder.Insert(seq, packet.Packet, nowMicros))
        {
            case ReorderResult.Deliver:
                Depacketize(packet.Payload, seq, packet.Timestamp, packet.Marker, nowMicros);
                break;
            case ReorderResult.Duplicate:
            case ReorderResult.Late:
                Statistics.OnDuplicate();
                break;
        }
        DrainReorder(nowMicros);
    }

    public void OnSenderReport(ulong ntpTimestamp, uint rtpTimestamp, long nowMicros)
    {
        _clock.OnSenderReport(ntpTimestamp, rtpTimestamp, nowMicros);
        Statistics.OnSenderReport(ntpTimestamp, nowMicros);
    }

    public void SetRttMicros(long rttMicros)
    {
        _rttMicros = Math.Clamp(rttMicros, 1_000, 2_000_000);
        _nack?.SetRttMicros(rttMicros);
        // Long enough for a third NACK round (the RTX of two lost, p^2 of the losses: 0.25% at 5%): the
        // last retry goes out two resend intervals after detection, its RTX takes one RTT plus the sender's
        // own delay (pacer, queue). A gap given up costs the frames up to the next keyframe.
        long rtt = _rttMicros;
        _reorder?.SetHoldMicros(2 * NackGenerator.ResendIntervalMicros(rtt) + rtt + Math.Max(50_000, rtt / 4));
    }

    public void HandleTimeout(long nowMicros) => DrainReorder(nowMicros);

    /// <summary>The RTT last given by the owner (100 ms until then).</summary>
    public long RttMicros => _rttMicros;

    public long NextTimeoutMicros(long nowMicros) =>
        Math.Min(_reorder?.NextTimeoutMicros ?? long.MaxValue, _nack?.NextTimeoutMicros(nowMicros) ?? long.MaxValue);

    /// <summary>Sequence numbers to NACK now (as 16-bit values for the RTCP writer).</summary>
    public int CollectNacks(long nowMicros, Span<ushort> destination)
    {
        if (_nack == null)
            return 0;
        Span<long> seqs = stackalloc long[Math.Min(destination.Length, 256)];
        int n = _nack.CollectNacks(nowMicros, seqs);
        for (int i = 0; i < n; i++)
            destination[i] = (ushort)seqs[i];
        NacksSent += n;
        return n;
    }

    /// <summary>
    /// True when a PLI should go out now (see the class summary; never FIR: use
    /// <see cref="TakeKeyframeRequestDue"/> for that). <paramref name="intervalMicros"/> is the
    /// longest wait between requests while no keyframe arrives. Records the request.
    /// </summary>
    public bool TakePliDue(long nowMicros, long intervalMicros) => Take(nowMicros, intervalMicros, 0) != KeyframeRequestKind.None;

    /// <summary>
    /// The keyframe request to send now, if any, and records it: PLI, or FIR (with
    /// <see cref="FirSequenceNumber"/>) once <see cref="PlisBeforeFir"/> PLIs went unanswered.
    /// <paramref name="maxIntervalMicros"/> is the longest wait between requests while no keyframe arrives.
    /// </summary>
    public KeyframeRequestKind TakeKeyframeRequestDue(long nowMicros, long maxIntervalMicros) => Take(nowMicros, maxIntervalMicros, PlisBeforeFir);

    /// <summary>When the next PLI may go out if a keyframe is still missing.</summary>
    public long NextPliMicros(long intervalMicros) => NextKeyframeRequestMicros(intervalMicros);

    /// <summary>When the next keyframe request is due; long.MaxValue when none is needed.</summary>
    public long NextKeyframeRequestMicros(long maxIntervalMicros) =>
        !_started || !NeedsKeyframe ? long.MaxValue : _lastRequestMicros == long.MinValue ? 0 : _lastRequestMicros + RepeatMicros(maxIntervalMicros);

    // Sooner than one RTT plus the sender's time to answer would only repeat a request in flight.
    private long RepeatMicros(long maxIntervalMicros) => Math.Max(1, Math.Min(maxIntervalMicros, _rttMicros + KeyframeRequestMarginMicros));

    private KeyframeRequestKind Take(long nowMicros, long maxIntervalMicros, int plisBeforeFir)
    {
        if (!_started || !NeedsKeyframe)
            return KeyframeRequestKind.None;
        if (_lastRequestMicros != long.MinValue && nowMicros - _lastRequestMicros < RepeatMicros(maxIntervalMicros))
            return KeyframeRequestKind.None;
        _lastRequestMicros = nowMicros;
        _nack?.TakeKeyframeRequest();
        int k = _requestsUnanswered++;
        if (plisBeforeFir > 0 && k >= plisBeforeFir && ((k - plisBeforeFir) & 1) == 0)
        {
            // RFC 5104 §4.3.1.2: a repetition keeps the number, a new command increments it. Ours
            // come an RTT apart, after the last one should have been answered: each is new.
            FirSequenceNumber++;
            FirsSent++;
            return KeyframeRequestKind.Fir;
        }
        PlisSent++;
        return KeyframeRequestKind.Pli;
    }

    /// <summary>
    /// The stream's first packet. When it does not begin a frame (its start was lost, or an H.264
    /// IDR came without the SPS/PPS that go first), the numbers before it are treated as missing,
    /// NACKed and waited for like any other gap; otherwise nothing before the first arrival is ever asked for.
    /// </summary>
    private void BackfillStart(ReadOnlySpan<byte> payload, long seq)
    {
        if (_video == null || _reorder == null || _nack == null)
            return;
        int k = _video.PacketsMissingBefore(payload);
        if (k <= 0)
            return;
        _reorder.StartAt(seq - k);
        _nack.ExpectFrom(seq - k);
        _video.ExpectFrom(seq - k);
        _backfillEnd = seq;
    }

    public ReportBlock CreateReportBlock(long nowMicros) => Statistics.CreateReportBlock(nowMicros);

    private void DrainReorder(long nowMicros)
    {
        if (_reorder == null)
            return;
        long skipped = _reorder.SkippedPackets;
        while (_reorder.TryPop(nowMicros, out long seq, out var bytes))
        {
            if (RtpPacketView.TryRead(bytes, out var held))
                Depacketize(held.Payload, seq, held.Timestamp, held.Marker, nowMicros);
        }
        if (_reorder.SkippedPackets != skipped)
            _nack?.ForgetBefore(_reorder.Expected); // given up on: a retransmission would come too late to use
    }

    private void Depacketize(ReadOnlySpan<byte> payload, long seq, uint timestamp, bool marker, long nowMicros)
    {
        if (_video == null)
        {
            // Opus: one packet is one frame (RFC 7587 §4).
            if (!payload.IsEmpty)
                Emit(payload, timestamp, nowMicros, isKeyframe: true, 0, 0);
            return;
        }
        _video.Push(payload, seq, timestamp, marker);
        if (_video.AssemblingKeyframe && _lastRequestMicros != long.MinValue)
        {
            // The sender answered: a large keyframe can take longer than RTT + margin to arrive,
            // and asking again while it does would only cost another one.
            _lastRequestMicros = Math.Max(_lastRequestMicros, nowMicros);
            _requestsUnanswered = 0;
        }
        while (_video.TryPollFrame(out var f))
        {
            if (f.Width > 0)
                (Width, Height) = (f.Width, f.Height);
            else if (f.IsKeyframe && Codec == MediaCodec.H264)
                ReadSps(f.Data);
            Emit(f.Data, f.RtpTimestamp, nowMicros, f.IsKeyframe, Width, Height);
        }
    }

    private void ReadSps(ReadOnlySpan<byte> avcc)
    {
        foreach (var nal in new H264NalEnumerator(avcc))
        {
            if ((nal[0] & 0x1F) == (byte)H264NalUnitType.Sps && H264Sps.TryParse(nal, out var sps))
            {
                Width = sps.Width;
                Height = sps.Height;
                int profile = sps.ProfileIdc << 16 | sps.ConstraintFlags << 8 | sps.LevelIdc;
                if (profile != _h264ProfileBits)
                {
                    _h264ProfileBits = profile;
                    H264Profile = sps.ProfileLevelId; // a string only when the profile changes
                }
                return;
            }
        }
    }

    private void Emit(ReadOnlySpan<byte> data, uint timestamp, long nowMicros, bool isKeyframe, int width, int height)
    {
        Frames++;
        if (isKeyframe && IsVideo)
        {
            Keyframes++;
            _keyframeRequested = false;
            if (!_video!.KeyframeWanted)
            {
                // Answered: the next loss asks at once.
                _lastRequestMicros = long.MinValue;
                _requestsUnanswered = 0;
            }
        }
        long ntp = _clock.TryMapToNtpMicros(timestamp, out long t) ? t : -1;
        _sink.OnFrame(_trackIndex, new EncodedFrame(Codec, data, timestamp, ClockRate, ntp, nowMicros, isKeyframe, width, height));
    }
}
