namespace Engine.Codec.Bench;

/// <summary>
/// How far behind its schedule a feeder sent each packet: the exact maximum and a histogram in 1 ms
/// buckets (up to 60 s, the last bucket holds the rest) for percentiles. Recording allocates nothing.
/// One thread records; <see cref="RequestReset"/> may come from another, and the recording thread
/// applies it before its next packet, so the window's figures start clean.
/// </summary>
internal sealed class FeedLateness
{
    private const int Buckets = 60_001;
    private readonly long[] _histogram = new long[Buckets];
    private volatile bool _resetRequested;

    public long Count { get; private set; }
    public long MaxMicros { get; private set; }

    public void RequestReset() => _resetRequested = true;

    public void Record(long lateMicros)
    {
        if (_resetRequested)
        {
            Array.Clear(_histogram);
            Count = 0;
            MaxMicros = 0;
            _resetRequested = false;
        }
        if (lateMicros < 0)
            lateMicros = 0;
        _histogram[Math.Min(lateMicros / 1000, Buckets - 1)]++;
        Count++;
        if (lateMicros > MaxMicros)
            MaxMicros = lateMicros;
    }

    /// <summary>The upper edge (ms) of the bucket holding the q-quantile; 0 when nothing was recorded.</summary>
    public double PercentileMs(double q)
    {
        long count = Count, rank = (long)Math.Ceiling(q * count), seen = 0;
        if (count == 0)
            return 0;
        for (int i = 0; i < Buckets; i++)
        {
            seen += _histogram[i];
            if (seen >= rank)
                return Math.Min(i + 1, MaxMicros / 1000.0);
        }
        return MaxMicros / 1000.0;
    }
}
