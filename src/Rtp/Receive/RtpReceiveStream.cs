using Engine.Rtp.Media;
using Engine.Rtp.Rtcp;
using Engine.Rtp.Video;

namespace Engine.Rtp.Receive;

/// <summary>
/// The receive pipeline of one incoming stream (one SSRC), after SRTP: statistics, NACK
/// bookkeeping, a reorder buffer bounded in time, the depacketizer, and the sender's clock (its
/// reports checked against arrival), ending in <see cref="IEncodedFrameSink"/>. It decides what feedback is due (NACKs, keyframe requests)
/// and the session sends it. Sans-IO; steady state allocates nothing.
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
    private long _lastPliMicros = long.MinValue;
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
    /// <summary>Sender reports not used for lip sync: before media, or disagreeing with arrival (see <see cref="SenderClock"/>).</summary>
    public long SenderReportsRejected => _clock.ReportsRejected;
    /// <summary>Frames the depacketizer dropped (incomplete, too large, or while waiting for a keyframe).</summary>
    public long FramesDropped => Drops(VideoDropReason.IncompleteFrame) + Drops(VideoDropReason.WaitingForKeyframe) + Drops(VideoDropReason.FrameTooLarge);

    private long Drops(VideoDropReason r) => _video?.DropCount(r) ?? 0;

    /// <summary>Packets that arrived after we NACKed them.</summary>
    public long NackRecovered => _nack?.RecoveredAfterNack ?? 0;
    public int Width { get; private set; }
    public int Height { get; private set; }
    /// <summary>The H.264 profile-level-id of the last SPS seen ("42e01f"), or null.</summary>
    public string? H264Profile { get; private set; }
    public bool IsVideo => Codec != MediaCodec.Opus;

    /// <summary>Video decoding waits for a keyframe (start, or a loss NACK could not repair).</summary>
    public bool NeedsKeyframe =>
        _video != null && (!_started || _keyframeRequested || _video.WaitingForKeyframe || (_nack?.KeyframeNeeded ?? false));

    /// <summary>A consumer downstream lost its place: ask for a keyframe (PLI) until one arrives.</summary>
    public void RequestKeyframe()
    {
        if (_video != null)
            _keyframeRequested = true;
    }

    /// <summary>One SRTP-authenticated RTP packet of this stream.</summary>
    public void OnRtp(in RtpPacketView packet, long nowMicros)
    {
        if (!_started)
        {
            _started = true;
            Ssrc = packet.Ssrc;
            Statistics = new RtpReceiveStatistics(packet.Ssrc, ClockRate);
        }
        long seq = _unwrapper.Unwrap(packet.SequenceNumber);
        Statistics.OnPacket(seq, packet.Timestamp, nowMicros, packet.Payload.Length);
        _clock.OnPacket(packet.Timestamp, nowMicros);
        _nack?.OnPacket(seq, nowMicros);
        if (_reorder == null)
        {
            Depacketize(packet.Payload, seq, packet.Timestamp, packet.Marker, nowMicros);
            return;
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
        _nack?.SetRttMicros(rttMicros);
        // Long enough for a second NACK round (the first NACK or its RTX lost): detection, retry one RTT later, answer one RTT after that.
        _reorder?.SetHoldMicros(Math.Max(50_000, rttMicros * 5 / 2));
    }

    public void HandleTimeout(long nowMicros) => DrainReorder(nowMicros);

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
    /// True when a PLI should go out now: the stream needs a keyframe and none was asked for within
    /// <paramref name="intervalMicros"/>. Records the request.
    /// </summary>
    public bool TakePliDue(long nowMicros, long intervalMicros)
    {
        if (!_started || !NeedsKeyframe)
            return false;
        if (_lastPliMicros != long.MinValue && nowMicros - _lastPliMicros < intervalMicros)
            return false;
        _lastPliMicros = nowMicros;
        _nack?.TakeKeyframeRequest();
        PlisSent++;
        return true;
    }

    /// <summary>When the next PLI may go out if a keyframe is still missing.</summary>
    public long NextPliMicros(long intervalMicros) =>
        !_started || !NeedsKeyframe ? long.MaxValue : _lastPliMicros == long.MinValue ? 0 : _lastPliMicros + intervalMicros;

    public ReportBlock CreateReportBlock(long nowMicros) => Statistics.CreateReportBlock(nowMicros);

    private void DrainReorder(long nowMicros)
    {
        if (_reorder == null)
            return;
        while (_reorder.TryPop(nowMicros, out long seq, out var bytes))
        {
            if (RtpPacketView.TryRead(bytes, out var held))
                Depacketize(held.Payload, seq, held.Timestamp, held.Marker, nowMicros);
        }
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
        }
        long ntp = _clock.TryMapToNtpMicros(timestamp, out long t) ? t : -1;
        _sink.OnFrame(_trackIndex, new EncodedFrame(Codec, data, timestamp, ClockRate, ntp, nowMicros, isKeyframe, width, height));
    }
}
