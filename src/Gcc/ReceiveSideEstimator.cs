namespace Engine.Gcc;

/// <summary>
/// Receive-side delay-based estimate for a publisher's stream (draft-ietf-rmcat-gcc-02 §5): abs-send-time
/// groups → trendline → over-use detector → AIMD on the measured incoming rate, reported by REMB.
/// Only media packets form the delay groups. Retransmissions and probe padding count in the incoming
/// rate, but they come in bursts the media cadence does not (a NACK's answer after a loss, a probe
/// cluster): the delay they add in front of the next media group, at the incoming rate, is taken off
/// that group's delay increase, so repairing a loss is not read as over-use; a queue the media
/// itself fills still is.
/// Sans-IO: every call takes the time; nothing allocates after construction.
/// </summary>
public sealed class ReceiveSideEstimator
{
    private readonly InterArrivalGrouper _grouper = new();
    private readonly TrendlineEstimator _trendline = new();
    private readonly OveruseDetector _detector = new();
    private readonly IncomingRateMeter _incoming = new();
    private readonly AimdRateControl _rate;
    private readonly ReceiveSideEstimatorOptions _options;
    private AbsSendTime _sendClock;
    private RembScheduler _remb;
    private long _lastPacketMicros = long.MinValue; // none yet (times may be negative)

    /// <summary>No packet for this long: the stream paused; start the delay filters over.</summary>
    public const long StreamTimeoutMicros = 2_000_000;

    public ReceiveSideEstimator() : this(ReceiveSideEstimatorOptions.Default) { }

    public ReceiveSideEstimator(ReceiveSideEstimatorOptions options)
    {
        _options = options;
        _rate = new AimdRateControl(options.MinBps, options.MaxBps, options.InitialBps);
    }

    /// <summary>The current estimate in bits per second, within [MinBps, MaxBps].</summary>
    public long Estimate => _rate.EstimateBps;

    public BandwidthUsage Usage => _detector.State;

    public RateControlState RateState => _rate.State;

    public double ThresholdMs => _detector.ThresholdMs;

    public long Packets { get; private set; }

    /// <summary>Of <see cref="Packets"/>: retransmissions and padding, kept out of the delay groups.</summary>
    public long RetransmittedPackets { get; private set; }
    public long PaddingPackets { get; private set; }

    /// <summary>Delay increases taken off media groups for the retransmissions and padding in front of them, in µs.</summary>
    public long ForeignDelayRemovedMicros { get; private set; }

    /// <summary>Packets with a size that cannot be real (≤ 0), counted and ignored.</summary>
    public long InvalidPackets { get; private set; }

    /// <summary>Round-trip time if the caller knows it (from RTCP); tunes the decrease pacing and the additive step.</summary>
    public long RttMicros { get => _rate.RttMicros; set => _rate.RttMicros = value; }

    public bool TryGetIncomingRate(long nowMicros, out long bps) => _incoming.TryGetRate(nowMicros, out bps);

    /// <summary>One received RTP media packet with its abs-send-time value (24 bits) and its size on the wire.</summary>
    public void OnPacket(long arrivalMicros, uint absSendTime24, int sizeBytes) => OnPacket(arrivalMicros, absSendTime24, sizeBytes, ReceivedPacketKind.Media);

    /// <summary>One received RTP packet of <paramref name="kind"/>, with its abs-send-time value (24 bits) and its size on the wire.</summary>
    public void OnPacket(long arrivalMicros, uint absSendTime24, int sizeBytes, ReceivedPacketKind kind)
    {
        if (sizeBytes <= 0)
        {
            InvalidPackets++;
            return;
        }
        if (_lastPacketMicros != long.MinValue && arrivalMicros - _lastPacketMicros > StreamTimeoutMicros)
        {
            _grouper.Reset();
            _trendline.Reset();
            _sendClock = default;
        }
        _lastPacketMicros = arrivalMicros;
        Packets++;
        _incoming.Add(arrivalMicros, sizeBytes);
        if (kind != ReceivedPacketKind.Media)
        {
            if (kind == ReceivedPacketKind.Padding)
                PaddingPackets++;
            else
                RetransmittedPackets++;
            _grouper.AddForeignBytes(sizeBytes);
            return;
        }
        long sendMicros = _sendClock.Unwrap(absSendTime24);
        if (!_grouper.OnPacket(sendMicros, arrivalMicros, sizeBytes, out var delta))
            return;

        _incoming.TryGetRate(arrivalMicros, out long incomingBps);
        delta = WithoutForeignDelay(delta, incomingBps);
        _trendline.Update(delta);
        var usage = _detector.Detect(_trendline.ModifiedTrend, delta.SendDeltaMicros / 1000.0, arrivalMicros);
        // An over-use is acted on once per RTT (the last cut needs time to show); other signals update at once.
        if (usage == BandwidthUsage.Overusing && !_rate.TimeToReduceFurther(arrivalMicros, incomingBps))
            return;
        _rate.Update(usage, incomingBps, arrivalMicros);
    }

    // The link spent ForeignBytes / incoming rate on ungrouped packets between the two groups: at most
    // that much of the delay increase is theirs. Never turned into a decrease: a path with room to
    // spare carried them without delaying the media at all. When the link is saturated the incoming
    // rate is its capacity and the estimate is exact; the media's own excess stays.
    private InterArrivalDelta WithoutForeignDelay(in InterArrivalDelta delta, long incomingBps)
    {
        long increase = delta.ArrivalDeltaMicros - delta.SendDeltaMicros;
        if (delta.ForeignBytes <= 0 || increase <= 0 || incomingBps <= 0)
            return delta;
        long busy = delta.ForeignBytes * 8 * 1_000_000 / incomingBps;
        long removed = Math.Min(increase, busy);
        ForeignDelayRemovedMicros += removed;
        return delta with { ArrivalDeltaMicros = delta.ArrivalDeltaMicros - removed };
    }

    /// <summary>True when a REMB with <paramref name="bps"/> should be sent now (see <see cref="RembScheduler"/>).</summary>
    public bool TryTakeRemb(long nowMicros, out long bps)
    {
        bps = Math.Clamp(_rate.EstimateBps, _options.MinBps, _options.MaxBps);
        if (Packets == 0)
            return false;
        return _remb.ShouldSend(nowMicros, bps);
    }
}
