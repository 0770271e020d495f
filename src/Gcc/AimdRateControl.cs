namespace Engine.Gcc;

/// <summary>
/// The remote rate controller (draft-ietf-rmcat-gcc-02 §5.5): a state machine driven by the detector
/// that raises the estimate multiplicatively (8%/s) far from the last congestion point and additively
/// (about one packet per response time) near it, and on over-use drops it to 0.85 × the measured
/// incoming rate.
/// </summary>
public sealed class AimdRateControl
{
    /// <summary>§5.5: beta, the decrease factor applied to the measured incoming rate.</summary>
    public const double Beta = 0.85;

    /// <summary>§5.5: eta = 1.08 per second far from convergence.</summary>
    public const double MultiplicativeIncreasePerSecond = 1.08;

    /// <summary>§5.5: the estimate never exceeds 1.5 × the incoming rate (it would mean nothing).</summary>
    public const double MaxIncomingRatio = 1.5;

    /// <summary>Headroom over the 1.5× cap so very low rates can still grow (libwebrtc: 10 kbps).</summary>
    public const long IncomingHeadroomBps = 10_000;

    /// <summary>Smallest steps so low rates still move (libwebrtc: 1 kbps multiplicative, 4 kbps/s additive).</summary>
    public const long MinMultiplicativeStepBps = 1_000, MinAdditiveBpsPerSecond = 4_000;

    /// <summary>§5.5: the additive increase assumes 30 fps frames of ~1200-byte packets.</summary>
    public const double AssumedFps = 30, AssumedPacketBytes = 1200;

    /// <summary>§5.5: response_time = 100 ms + RTT.</summary>
    public const long ResponseTimeExtraMicros = 100_000;

    /// <summary>RTT used until one is given (libwebrtc default 200 ms).</summary>
    public const long DefaultRttMicros = 200_000;

    /// <summary>Smoothing of the link-capacity estimate taken at each decrease (libwebrtc: 0.05).</summary>
    public const double CapacityAlpha = 0.05;

    /// <summary>"Near convergence": within 3 standard deviations of the capacity estimate (§5.5).</summary>
    public const double CapacityStdDevs = 3;

    /// <summary>Bounds of the normalised capacity variance, so the band neither collapses nor explodes.</summary>
    public const double MinCapacityVariance = 0.4, MaxCapacityVariance = 2.5;

    private readonly long _minBps, _maxBps;
    private long _lastChangeMicros = long.MinValue; // never (times may be negative)
    private long _lastDecreaseMicros = long.MinValue;
    private double _capacityBps = -1; // -1: unknown, increase multiplicatively
    private double _capacityVariance = MinCapacityVariance;

    public AimdRateControl(long minBps, long maxBps, long initialBps)
    {
        _minBps = minBps;
        _maxBps = maxBps;
        EstimateBps = Math.Clamp(initialBps, minBps, maxBps);
    }

    public long EstimateBps { get; private set; }

    public RateControlState State { get; private set; } = RateControlState.Hold;

    public long RttMicros { get; set; } = DefaultRttMicros;

    /// <summary>Whether the controller is using additive increase (a capacity estimate exists).</summary>
    public bool NearConvergence => _capacityBps > 0;

    /// <summary>
    /// Over-use is acted on again only after an RTT has passed since the last decrease, or when the
    /// incoming rate has already fallen below half the estimate (the last cut did not take).
    /// </summary>
    public bool TimeToReduceFurther(long nowMicros, long incomingBps)
    {
        if (_lastDecreaseMicros == long.MinValue || nowMicros - _lastDecreaseMicros >= Math.Clamp(RttMicros, 10_000, 200_000))
            return true;
        return incomingBps > 0 && incomingBps < EstimateBps / 2;
    }

    /// <summary>
    /// Jumps the estimate to a measured rate (a probe's result): the path was seen to carry it, so there
    /// is no need to climb there at 8%/s. The capacity band is forgotten (it described a slower path).
    /// </summary>
    public void SetEstimate(long bps, long nowMicros)
    {
        EstimateBps = Math.Clamp(bps, _minBps, _maxBps);
        _capacityBps = -1;
        _lastChangeMicros = nowMicros;
    }

    /// <summary>Advances the state machine with the detector's signal and the incoming rate (0 when not known yet).</summary>
    public long Update(BandwidthUsage usage, long incomingBps, long nowMicros)
    {
        // §5.5 Figure 2: over-use → Decrease; under-use → Hold (queues are draining); normal → Increase (from Hold).
        switch (usage)
        {
            case BandwidthUsage.Overusing:
                State = RateControlState.Decrease;
                break;
            case BandwidthUsage.Underusing:
                State = RateControlState.Hold;
                break;
            default:
                if (State == RateControlState.Hold)
                    State = RateControlState.Increase;
                else if (State == RateControlState.Decrease)
                    State = RateControlState.Hold;
                break;
        }
        if (_lastChangeMicros == long.MinValue)
            _lastChangeMicros = nowMicros;

        double estimate = EstimateBps;
        switch (State)
        {
            case RateControlState.Increase:
                if (_capacityBps > 0 && incomingBps > CapacityUpperBound())
                    _capacityBps = -1; // the link got faster than we thought: search again
                double dtSeconds = (nowMicros - _lastChangeMicros) / 1e6;
                if (_capacityBps > 0)
                    estimate += AdditiveStep(dtSeconds);
                else
                    estimate += MultiplicativeStep(dtSeconds);
                // §5.5: no more than 1.5 × what arrives; an increase step never lowers the estimate.
                if (incomingBps > 0)
                    estimate = Math.Min(estimate, Math.Max(EstimateBps, MaxIncomingRatio * incomingBps + IncomingHeadroomBps));
                _lastChangeMicros = nowMicros;
                break;
            case RateControlState.Decrease:
                if (incomingBps > 0)
                {
                    double cut = Beta * incomingBps;
                    if (cut < estimate)
                        estimate = cut;
                    if (_capacityBps > 0 && incomingBps < CapacityLowerBound())
                        _capacityBps = -1; // far below the old capacity: that estimate is stale
                    UpdateCapacity(incomingBps);
                }
                _lastDecreaseMicros = nowMicros;
                _lastChangeMicros = nowMicros;
                State = RateControlState.Hold; // §5.5: one decrease per over-use signal
                break;
            default:
                _lastChangeMicros = nowMicros;
                break;
        }
        EstimateBps = Math.Clamp((long)estimate, _minBps, _maxBps);
        return EstimateBps;
    }

    private double MultiplicativeStep(double dtSeconds)
    {
        double eta = Math.Pow(MultiplicativeIncreasePerSecond, Math.Min(dtSeconds, 1.0));
        return Math.Max(EstimateBps * (eta - 1), MinMultiplicativeStepBps);
    }

    private double AdditiveStep(double dtSeconds)
    {
        // §5.5: about one average packet per response time.
        double frameBits = EstimateBps / AssumedFps;
        double packetsPerFrame = Math.Ceiling(frameBits / (AssumedPacketBytes * 8));
        double packetBits = frameBits / Math.Max(1, packetsPerFrame);
        double responseSeconds = (RttMicros + ResponseTimeExtraMicros) / 1e6;
        double perSecond = Math.Max(MinAdditiveBpsPerSecond, packetBits / responseSeconds);
        return perSecond * Math.Min(dtSeconds, 1.0);
    }

    // The variance is normalised in kbps (as libwebrtc's bounds are), so the clamps mean the same at any rate.
    private void UpdateCapacity(double sampleBps)
    {
        if (_capacityBps < 0)
        {
            _capacityBps = sampleBps;
            return;
        }
        _capacityBps = (1 - CapacityAlpha) * _capacityBps + CapacityAlpha * sampleBps;
        double errorKbps = (_capacityBps - sampleBps) / 1000;
        double normKbps = Math.Max(_capacityBps / 1000, 1);
        _capacityVariance = Math.Clamp((1 - CapacityAlpha) * _capacityVariance + CapacityAlpha * errorKbps * errorKbps / normKbps,
            MinCapacityVariance, MaxCapacityVariance);
    }

    private double CapacityDeviation() => Math.Sqrt(_capacityVariance * _capacityBps / 1000) * 1000;

    private double CapacityUpperBound() => _capacityBps + CapacityStdDevs * CapacityDeviation();

    private double CapacityLowerBound() => _capacityBps - CapacityStdDevs * CapacityDeviation();
}
