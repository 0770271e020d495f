namespace Engine.Rtp.Receive;

/// <summary>
/// A track's arrival estimate: arrival time minus media time (µs), the one-way delay plus an
/// unknown constant. It leans to the least-delayed samples (down fast, up slowly), so pacing and
/// jitter bias every track alike, and ignores samples off by more than <see cref="OutlierMicros"/>
/// (a network stall's burst) unless they persist for 2 s of media, which is a real delay change.
/// A mutable struct: keep it in a field.
/// </summary>
public struct ArrivalOffset
{
    public const long OutlierMicros = 300_000;
    private const long PersistMicros = 2_000_000;
    private long _outlierSinceMedia;
    private bool _outlying;

    public long Value { get; private set; }

    public void Reset(long sample)
    {
        Value = sample;
        _outlying = false;
    }

    public void Add(long sample, long mediaMicros)
    {
        long d = sample - Value;
        if (Math.Abs(d) > OutlierMicros)
        {
            if (!_outlying)
            {
                _outlying = true;
                _outlierSinceMedia = mediaMicros;
            }
            else if (mediaMicros - _outlierSinceMedia >= PersistMicros)
                Reset(sample);
            return;
        }
        _outlying = false;
        Value += d < 0 ? d / 8 : d / 32;
    }
}
