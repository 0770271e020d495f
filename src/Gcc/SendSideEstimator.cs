using Engine.Rtp.Send;

namespace Engine.Gcc;

/// <summary>
/// Send-side GCC for a peer we send to (players, subscribers): from the transport-cc results the send
/// history matched (<see cref="SentPacketResult"/>), a delay-based estimate (our send times and the
/// receiver's arrival times → 5 ms groups → trendline → adaptive threshold → AIMD on the acknowledged
/// rate), a loss-based estimate (draft-ietf-rmcat-gcc-02 §6), probe results, and the receiver's REMB as
/// a cap. <see cref="TargetBps"/> = min(delay-based, loss-based, REMB) within [min, max]; the sender
/// gives it to the encoder and the <see cref="Pacer"/>. Sans-IO; nothing allocates after construction.
/// </summary>
public sealed class SendSideEstimator
{
    /// <summary>§6: under 2% loss the path is not loss-limited: the loss-based estimate grows.</summary>
    public const double LowLoss = 0.02;

    /// <summary>§6: over 10% loss the rate is cut by half the loss ratio.</summary>
    public const double HighLoss = 0.10;

    /// <summary>libwebrtc's loss-based increase: 8% per second of the estimate (as the AIMD's multiplicative step).</summary>
    public const double LossIncreasePerSecond = 1.08;

    /// <summary>
    /// Loss is judged over at least this many packets and this long. §6 is written for RTCP receiver
    /// reports (about a second apart); a 20-packet window of transport-cc at 10% random loss reads over
    /// 10% a third of the time and would cut every 300 ms (measured on 2 Mbps at 10%: 312 kbps settled with 20-packet windows, 1037 kbps with 1 s windows).
    /// </summary>
    public const int LossWindowPackets = 20;
    public const long LossWindowMicros = 1_000_000;

    /// <summary>
    /// Weight of each window in the smoothed loss. An increase needs the window and the smoothed loss both under
    /// 2%: at a steady 3% a single 1 s window reads under 2% about a quarter of the time, and with nothing to cut
    /// it back each such window lets the rate climb (measured, 3% loss on 5 Mbps for 30 s: up to 2.29 Mbps and
    /// still rising on the window alone, 2.07 Mbps with 0.5). A heavier smoothing (0.2: 1.30 Mbps) holds the
    /// tail drops after a capacity cut against the rate for seconds (RFC 8867 §5.1 at 0.6 Mbps: 85% of capacity
    /// against 91% with 0.5). Cuts follow the window alone (quick to back off, slow to grow).
    /// </summary>
    public const double LossSmoothing = 0.5;

    /// <summary>libwebrtc's kBweDecreaseInterval: a loss cut waits this plus an RTT to show before the next.</summary>
    public const long LossDecreaseIntervalMicros = 300_000;

    /// <summary>No feedback with an arrival for this long: the stream paused; start the delay filters over.</summary>
    public const long StreamTimeoutMicros = 2_000_000;

    private readonly SendSideEstimatorOptions _options;
    private readonly InterArrivalGrouper _grouper = new();
    private readonly TrendlineEstimator _trendline = new();
    private readonly OveruseDetector _detector = new();
    private readonly IncomingRateMeter _acked = new();
    private readonly AimdRateControl _rate;
    private readonly ProbeBitrateEstimator _probeEstimator = new();
    private readonly ProbeController _prober;
    private readonly AlrDetector _alr;
    private long _lastArrivalMicros = long.MinValue;
    private long _lossBps;
    private long _rembBps = long.MaxValue;
    private long _lossWindowStartMicros = long.MinValue;
    private int _lossExpected, _lossLost;
    private long _lastLossUpdateMicros = long.MinValue;
    private bool _lossMayIncrease = true; // until a window says otherwise, as libwebrtc starts
    private long _lastLossDecreaseMicros = long.MinValue / 2;

    public SendSideEstimator() : this(SendSideEstimatorOptions.Default) { }

    public SendSideEstimator(SendSideEstimatorOptions options)
    {
        _options = options;
        long start = Math.Clamp(options.StartBps, options.MinBps, options.MaxBps);
        _rate = new AimdRateControl(options.MinBps, options.MaxBps, start);
        _prober = new ProbeController(options.MinBps, options.MaxBps, start);
        _alr = new AlrDetector(start);
        _lossBps = start;
        TargetBps = start;
    }

    /// <summary>What to send at: min(delay-based, loss-based, REMB) within [MinBps, MaxBps].</summary>
    public long TargetBps { get; private set; }

    public long DelayBasedBps => _rate.EstimateBps;

    public long LossBasedBps => _lossBps;

    /// <summary>The receiver's last REMB (long.MaxValue: none).</summary>
    public long RembBps => _rembBps;

    public BandwidthUsage Usage => _detector.State;

    public RateControlState RateState => _rate.State;

    public bool InAlr => _alr.InAlr;

    /// <summary>The loss ratio of the last finished window (-1: none yet).</summary>
    public double LastLoss { get; private set; } = -1;

    /// <summary>The windows' loss ratios smoothed (<see cref="LossSmoothing"/>).</summary>
    public double SmoothedLoss { get; private set; }

    public long FeedbackReports { get; private set; }

    /// <summary>Results that cannot be real (size ≤ 0), counted and ignored.</summary>
    public long InvalidResults { get; private set; }

    public long ProbesStarted => _prober.ProbesStarted;

    public long RoomProbesStarted => _prober.RoomProbesStarted;

    public long ProbesMeasured => _probeEstimator.ProbesMeasured;

    public long ProbesFailed => _probeEstimator.ProbesFailed;

    public long LastProbeResultBps => _probeEstimator.LastResultBps;

    /// <summary>The acknowledged rate over the last 500 ms of arrivals (receiver clock); false until known.</summary>
    public bool TryGetAckedRate(out long bps)
    {
        bps = 0;
        return _lastArrivalMicros != long.MinValue && _acked.TryGetRate(_lastArrivalMicros, out bps);
    }

    /// <summary>The round-trip time (from RTCP or from feedback); tunes AIMD and the loss cut interval.</summary>
    public long RttMicros { get => _rate.RttMicros; set => _rate.RttMicros = Math.Max(0, value); }

    /// <summary>The receiver's REMB: a cap on the target (0 or less is ignored).</summary>
    public void OnRemb(long bps)
    {
        if (bps <= 0)
            return;
        _rembBps = bps;
        UpdateTarget();
    }

    /// <summary>One packet left the pacer (media, retransmission or padding) with its transport-wide number.</summary>
    public void OnPacketSent(long transportSequenceNumber, long sendMicros, int size, int probeClusterId, bool padding)
    {
        if (size <= 0)
        {
            InvalidResults++;
            return;
        }
        if (!padding)
            _alr.OnBytesSent(size, sendMicros);
        if (probeClusterId >= 0)
            _probeEstimator.OnPacketSent(probeClusterId, transportSequenceNumber, ProbeController.MinPackets);
    }

    /// <summary>A probe cluster to give the pacer now, if one is due (the initial ones on the first call).</summary>
    public bool TryTakeProbe(long nowMicros, out ProbeCluster cluster)
    {
        _alr.OnTime(nowMicros);
        return _prober.TryTakeProbe(nowMicros, _alr.InAlr, out cluster);
    }

    /// <summary>One transport-cc feedback report's matched results, in sequence order.</summary>
    public void OnTransportFeedback(ReadOnlySpan<SentPacketResult> results, long nowMicros)
    {
        if (results.IsEmpty)
            return;
        FeedbackReports++;
        bool grouped = false;
        foreach (ref readonly var r in results)
        {
            if (r.Size <= 0)
            {
                InvalidResults++;
                continue;
            }
            _lossExpected++;
            if (!r.Received)
            {
                _lossLost++;
                continue;
            }
            if (_lastArrivalMicros != long.MinValue && r.ArrivalMicros - _lastArrivalMicros > StreamTimeoutMicros)
            {
                _grouper.Reset();
                _trendline.Reset();
                _acked.Reset();
            }
            if (_lastArrivalMicros == long.MinValue || r.ArrivalMicros > _lastArrivalMicros)
                _lastArrivalMicros = r.ArrivalMicros;
            _acked.Add(r.ArrivalMicros, r.Size);
            if (_grouper.OnPacket(r.SendMicros, r.ArrivalMicros, r.Size, out var delta))
            {
                _trendline.Update(delta);
                _detector.Detect(_trendline.ModifiedTrend, delta.SendDeltaMicros / 1000.0, delta.ArrivalMicros);
                grouped = true;
            }
        }

        _probeEstimator.OnFeedback(results);
        if (_probeEstimator.TryTakeResult(out long probeBps, out bool saturated))
        {
            // The path carried it: both estimates may start there (libwebrtc sets the loss-based one to it too);
            // the prober refuses a room probe's result that saturated (a share of a full link, not room).
            bool apply = _prober.OnProbeResult(probeBps, saturated, nowMicros);
            if (apply && probeBps > _rate.EstimateBps)
            {
                _rate.SetEstimate(probeBps, nowMicros);
                // The acknowledged rate's window still holds the slower pre-probe sending; a cut from it would undo
                // the probe (measured on 10 Mbps: 9.9 -> 4.1 Mbps at the first over-use). Measure afresh.
                _acked.Reset();
            }
            if (apply)
                _lossBps = Math.Max(_lossBps, Math.Min(probeBps, _rate.EstimateBps));
        }

        if (grouped)
        {
            TryGetAckedRate(out long ackedBps);
            var usage = _detector.State;
            // An over-use is acted on once per RTT (the last cut needs time to show); other signals at once.
            if (usage != BandwidthUsage.Overusing || _rate.TimeToReduceFurther(nowMicros, ackedBps))
                _rate.Update(usage, ackedBps, nowMicros);
        }
        UpdateLoss(nowMicros);
        UpdateTarget();
        // Near its capacity estimate the AIMD is at the link (a room probe there only queues, and its burst reads
        // as over-use: every 5 s it held 2 Mbps at 81% instead of 93%); past it the link may have grown, and a
        // probe finds in an RTT what 8%/s takes seconds to. Not while loss or REMB holds the target lower.
        bool searching = _lossMayIncrease && _lossBps >= _rate.EstimateBps && _rembBps >= _rate.EstimateBps && !_rate.NearConvergence;
        _prober.OnDelayState(searching, _detector.State == BandwidthUsage.Overusing, nowMicros);
    }

    // The verdict comes from whole windows; the increase it allows is applied on every report (8%/s of the
    // elapsed time), so the loss-based estimate does not lag the delay-based one by a window's growth.
    private void UpdateLoss(long nowMicros)
    {
        if (_lossWindowStartMicros == long.MinValue)
            _lossWindowStartMicros = nowMicros;
        double estimate = _lossBps;
        if (_lossMayIncrease && _lastLossUpdateMicros != long.MinValue && nowMicros > _lastLossUpdateMicros)
        {
            double dt = Math.Min(nowMicros - _lastLossUpdateMicros, 1_000_000) / 1e6;
            estimate = estimate * Math.Pow(LossIncreasePerSecond, dt) + 1000 * dt; // +1 kbps/s so very low rates still move
        }
        _lastLossUpdateMicros = nowMicros;
        if (_lossExpected >= LossWindowPackets && nowMicros - _lossWindowStartMicros >= LossWindowMicros)
        {
            double loss = (double)_lossLost / _lossExpected;
            SmoothedLoss = LastLoss < 0 ? loss : (1 - LossSmoothing) * SmoothedLoss + LossSmoothing * loss;
            LastLoss = loss;
            _lossExpected = _lossLost = 0;
            _lossWindowStartMicros = nowMicros;
            _lossMayIncrease = loss < LowLoss && SmoothedLoss < LowLoss;
            if (loss > HighLoss && nowMicros - _lastLossDecreaseMicros >= LossDecreaseIntervalMicros + _rate.RttMicros)
            {
                estimate *= 1 - 0.5 * loss;
                _lastLossDecreaseMicros = nowMicros;
            }
        }
        // Never above the delay-based estimate: with little loss it would otherwise grow without bound.
        _lossBps = Math.Clamp((long)Math.Min(estimate, _rate.EstimateBps), _options.MinBps, _options.MaxBps);
    }

    private void UpdateTarget()
    {
        long target = Math.Min(Math.Min(_rate.EstimateBps, _lossBps), _rembBps);
        TargetBps = Math.Clamp(target, _options.MinBps, _options.MaxBps);
        _alr.SetTarget(TargetBps);
        _prober.OnEstimate(TargetBps);
    }
}
