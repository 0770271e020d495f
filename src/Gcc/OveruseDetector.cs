namespace Engine.Gcc;

/// <summary>
/// Compares the delay trend with an adaptive threshold (draft-ietf-rmcat-gcc-02 §5.4). The threshold
/// follows |trend| up slowly and down fast, so a competing TCP flow's standing queue does not starve
/// the media flow, and stays within [6, 600] ms.
/// </summary>
public sealed class OveruseDetector
{
    /// <summary>§5.4: initial del_var_th 12.5 ms.</summary>
    public const double InitialThresholdMs = 12.5;

    /// <summary>§5.4: K_u, the gain when |m| exceeds the threshold (threshold rises slowly).</summary>
    public const double KUp = 0.0087;

    /// <summary>§5.4: K_d, the gain when |m| is under the threshold (threshold falls faster).</summary>
    public const double KDown = 0.039;

    /// <summary>§5.4: the threshold is clamped to [6, 600] ms.</summary>
    public const double MinThresholdMs = 6, MaxThresholdMs = 600;

    /// <summary>§5.4: a |m| this far above the threshold is a spike (e.g. a route change); do not adapt to it.</summary>
    public const double MaxAdaptOffsetMs = 15;

    /// <summary>§5.4: the time step in the adaptation is capped at 100 ms (a pause must not swing the threshold).</summary>
    public const long MaxAdaptStepMicros = 100_000;

    /// <summary>§5.4: over-use must last overuse_time_th = 10 ms before it is signalled.</summary>
    public const double OveruseTimeThresholdMs = 10;

    private double _timeOverUsingMs = -1;
    private int _overuseCounter;
    private double _previousTrend;
    private long _lastUpdateMicros = long.MinValue; // never (times may be negative)

    public double ThresholdMs { get; private set; } = InitialThresholdMs;

    public BandwidthUsage State { get; private set; } = BandwidthUsage.Normal;

    /// <summary>One detection step with the modified trend, the group's send delta (ms) and its arrival time.</summary>
    public BandwidthUsage Detect(double modifiedTrend, double sendDeltaMs, long nowMicros)
    {
        if (modifiedTrend > ThresholdMs)
        {
            // Half a send delta the first time: the over-use started somewhere inside this group.
            _timeOverUsingMs = _timeOverUsingMs < 0 ? sendDeltaMs / 2 : _timeOverUsingMs + sendDeltaMs;
            _overuseCounter++;
            if (_timeOverUsingMs > OveruseTimeThresholdMs && _overuseCounter > 1 && modifiedTrend >= _previousTrend)
            {
                _timeOverUsingMs = 0;
                _overuseCounter = 0;
                State = BandwidthUsage.Overusing;
            }
        }
        else if (modifiedTrend < -ThresholdMs)
        {
            _timeOverUsingMs = -1;
            _overuseCounter = 0;
            State = BandwidthUsage.Underusing;
        }
        else
        {
            _timeOverUsingMs = -1;
            _overuseCounter = 0;
            State = BandwidthUsage.Normal;
        }
        _previousTrend = modifiedTrend;
        AdaptThreshold(modifiedTrend, nowMicros);
        return State;
    }

    private void AdaptThreshold(double modifiedTrend, long nowMicros)
    {
        if (_lastUpdateMicros == long.MinValue)
            _lastUpdateMicros = nowMicros;
        double magnitude = Math.Abs(modifiedTrend);
        if (magnitude > ThresholdMs + MaxAdaptOffsetMs)
        {
            _lastUpdateMicros = nowMicros;
            return;
        }
        double k = magnitude < ThresholdMs ? KDown : KUp;
        double stepMs = Math.Min(nowMicros - _lastUpdateMicros, MaxAdaptStepMicros) / 1000.0;
        ThresholdMs = Math.Clamp(ThresholdMs + k * (magnitude - ThresholdMs) * stepMs, MinThresholdMs, MaxThresholdMs);
        _lastUpdateMicros = nowMicros;
    }
}
