namespace Engine.Gcc;

/// <summary>
/// Estimates the queuing-delay gradient as the least-squares slope of smoothed accumulated delay
/// over arrival time, across the last packet groups (libwebrtc's trendline filter, which replaced
/// the Kalman arrival-time filter of draft-ietf-rmcat-gcc-02 §5.3). Output is the slope scaled as
/// the detector compares it: slope × min(deltas, 60) × gain.
/// </summary>
public sealed class TrendlineEstimator
{
    /// <summary>Groups in the regression window (libwebrtc default: 20).</summary>
    public const int WindowSize = 20;

    /// <summary>Exponential smoothing of the accumulated delay (libwebrtc default: 0.9).</summary>
    public const double Smoothing = 0.9;

    /// <summary>The slope is tiny (ms of delay per ms of time); scale it into threshold units (libwebrtc: 4).</summary>
    public const double ThresholdGain = 4.0;

    /// <summary>Early slopes are weighted down by the delta count up to 60 (libwebrtc's kMinNumDeltas).</summary>
    public const int DeltaCountCap = 60;

    private readonly double[] _x = new double[WindowSize];
    private readonly double[] _y = new double[WindowSize];
    private int _count;
    private int _head;
    private long _firstArrivalMicros;
    private bool _started;
    private double _accumulatedMs;
    private double _smoothedMs;
    private int _deltas;

    /// <summary>The last regression slope (delay ms per arrival ms); 0 until the window fills.</summary>
    public double Slope { get; private set; }

    /// <summary>Slope scaled for the detector: Slope × min(deltas, 60) × gain.</summary>
    public double ModifiedTrend => Slope * Math.Min(_deltas, DeltaCountCap) * ThresholdGain;

    public int Deltas => _deltas;

    public void Update(in InterArrivalDelta delta)
    {
        if (!_started)
        {
            _started = true;
            _firstArrivalMicros = delta.ArrivalMicros;
        }
        if (_deltas < 1000)
            _deltas++;
        double delayMs = (delta.ArrivalDeltaMicros - delta.SendDeltaMicros) / 1000.0;
        _accumulatedMs += delayMs;
        _smoothedMs = Smoothing * _smoothedMs + (1 - Smoothing) * _accumulatedMs;

        _x[_head] = (delta.ArrivalMicros - _firstArrivalMicros) / 1000.0;
        _y[_head] = _smoothedMs;
        _head = (_head + 1) % WindowSize;
        if (_count < WindowSize)
            _count++;
        if (_count == WindowSize && TrySlope(out double slope))
            Slope = slope;
    }

    public void Reset()
    {
        _count = 0;
        _head = 0;
        _started = false;
        _accumulatedMs = 0;
        _smoothedMs = 0;
        _deltas = 0;
        Slope = 0;
    }

    private bool TrySlope(out double slope)
    {
        double sumX = 0, sumY = 0;
        for (int i = 0; i < _count; i++) { sumX += _x[i]; sumY += _y[i]; }
        double meanX = sumX / _count, meanY = sumY / _count;
        double num = 0, den = 0;
        for (int i = 0; i < _count; i++)
        {
            double dx = _x[i] - meanX;
            num += dx * (_y[i] - meanY);
            den += dx * dx;
        }
        slope = den == 0 ? 0 : num / den;
        return den != 0;
    }
}
