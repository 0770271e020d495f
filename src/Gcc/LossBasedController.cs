namespace Engine.Gcc;

/// <summary>
/// The sender-side loss-based controller (draft-ietf-rmcat-gcc-02 §6): on each loss report (an RTCP
/// receiver report's fraction lost), under 2% loss the rate grows 5%, over 10% it falls by half the
/// loss fraction, in between it holds. The sender uses min(this, the delay-based REMB value).
/// </summary>
public sealed class LossBasedController
{
    /// <summary>§6: below 2% loss the path is not loss-limited.</summary>
    public const double IncreaseBelowLoss = 0.02;

    /// <summary>§6: above 10% loss the rate is too high.</summary>
    public const double DecreaseAboveLoss = 0.10;

    /// <summary>§6: As_hat = 1.05 × As_hat when loss is low.</summary>
    public const double IncreaseFactor = 1.05;

    /// <summary>§6: As_hat = As_hat × (1 − 0.5 × loss) when loss is high.</summary>
    public const double DecreaseLossWeight = 0.5;

    /// <summary>Increases at most once per this interval (libwebrtc: 1 s), so a burst of reports does not compound.</summary>
    public const long MinIncreaseIntervalMicros = 1_000_000;

    /// <summary>Decreases at most once per this interval (libwebrtc: 300 ms, about an RTT plus the report spacing).</summary>
    public const long MinDecreaseIntervalMicros = 300_000;

    private readonly long _minBps, _maxBps;
    private long _lastIncreaseMicros = long.MinValue / 2;
    private long _lastDecreaseMicros = long.MinValue / 2;

    public LossBasedController(long minBps, long maxBps, long initialBps)
    {
        _minBps = minBps;
        _maxBps = maxBps;
        EstimateBps = Math.Clamp(initialBps, minBps, maxBps);
    }

    public long EstimateBps { get; private set; }

    /// <summary>An RTCP report block's fraction lost (the 8-bit field: lost/256); ignores values out of range.</summary>
    public long OnFractionLost(byte fractionLost, long nowMicros) => OnLoss(fractionLost / 256.0, nowMicros);

    public long OnLoss(double loss, long nowMicros)
    {
        if (double.IsNaN(loss) || loss < 0 || loss > 1)
            return EstimateBps;
        double estimate = EstimateBps;
        if (loss < IncreaseBelowLoss)
        {
            if (nowMicros - _lastIncreaseMicros >= MinIncreaseIntervalMicros)
            {
                estimate = estimate * IncreaseFactor + 1000; // +1 kbps so very low rates still move
                _lastIncreaseMicros = nowMicros;
            }
        }
        else if (loss > DecreaseAboveLoss)
        {
            if (nowMicros - _lastDecreaseMicros >= MinDecreaseIntervalMicros)
            {
                estimate *= 1 - DecreaseLossWeight * loss;
                _lastDecreaseMicros = nowMicros;
            }
        }
        EstimateBps = Math.Clamp((long)estimate, _minBps, _maxBps);
        return EstimateBps;
    }

    /// <summary>The loss-based estimate is never far above the delay-based one (it would grow unboundedly while loss is low).</summary>
    public void CapTo(long delayBasedBps) => EstimateBps = Math.Clamp(Math.Min(EstimateBps, delayBasedBps), _minBps, _maxBps);
}
