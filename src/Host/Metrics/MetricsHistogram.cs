namespace Engine.Host.Metrics;

/// <summary>
/// A fixed-bucket histogram: any thread observes (atomics, no lock, no allocation); a scrape reads
/// the per-bucket counts and <see cref="MetricsWriter"/> makes them cumulative.
/// </summary>
public sealed class MetricsHistogram
{
    private readonly double[] _bounds;
    private readonly long[] _counts; // per bucket, not cumulative; the last is (bound[^1], +Inf)
    private long _sumBits;

    /// <param name="upperBounds">Finite, strictly increasing; the +Inf bucket is implied.</param>
    public MetricsHistogram(params double[] upperBounds)
    {
        ArgumentNullException.ThrowIfNull(upperBounds);
        for (int i = 0; i < upperBounds.Length; i++)
        {
            if (!double.IsFinite(upperBounds[i]))
                throw new ArgumentException("bucket bounds must be finite (+Inf is implied)", nameof(upperBounds));
            if (i > 0 && upperBounds[i] <= upperBounds[i - 1])
                throw new ArgumentException("bucket bounds must increase", nameof(upperBounds));
        }
        _bounds = (double[])upperBounds.Clone();
        _counts = new long[_bounds.Length + 1];
    }

    public ReadOnlySpan<double> UpperBounds => _bounds;

    /// <summary>Observations in bucket <paramref name="index"/> alone (index UpperBounds.Length is the +Inf bucket).</summary>
    public long BucketCount(int index) => Interlocked.Read(ref _counts[index]);

    public double Sum => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits));

    public long Count
    {
        get
        {
            long n = 0;
            for (int i = 0; i < _counts.Length; i++)
                n += Interlocked.Read(ref _counts[i]);
            return n;
        }
    }

    /// <summary>NaN is ignored: it belongs to no bucket and would poison the sum.</summary>
    public void Observe(double value)
    {
        if (double.IsNaN(value))
            return;
        int i = 0;
        while (i < _bounds.Length && value > _bounds[i]) // le: a value on a bound counts in that bound's bucket
            i++;
        Interlocked.Increment(ref _counts[i]);
        long seen = Interlocked.Read(ref _sumBits);
        for (int guard = 0; guard < 1000; guard++)
        {
            long next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
            long was = Interlocked.CompareExchange(ref _sumBits, next, seen);
            if (was == seen)
                return;
            seen = was;
        }
    }
}
