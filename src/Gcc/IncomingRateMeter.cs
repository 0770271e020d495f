namespace Engine.Gcc;

/// <summary>
/// The received bitrate R_hat over a sliding window (draft-ietf-rmcat-gcc-02 §5.5: "measured over
/// the last 500 ms to 1 s"), kept in fixed time buckets so adding a packet is O(1) and allocation-free.
/// </summary>
public sealed class IncomingRateMeter
{
    /// <summary>§5.5 suggests 0.5 to 1 s; the short end, so a cut after a capacity drop lands near the new capacity.</summary>
    public const long DefaultWindowMicros = 500_000;

    /// <summary>Bucket width: coarse enough to keep the ring small, fine enough for ~1% error over the window.</summary>
    public const long BucketMicros = 10_000;

    private readonly long[] _bytes;
    private readonly long _windowMicros;
    private long _headBucket = long.MinValue; // absolute bucket index of the newest slot
    private long _firstMicros;
    private bool _started;
    private long _sum;

    public IncomingRateMeter(long windowMicros = DefaultWindowMicros)
    {
        _windowMicros = Math.Max(BucketMicros, windowMicros);
        _bytes = new long[_windowMicros / BucketMicros];
    }

    public void Add(long nowMicros, int sizeBytes)
    {
        if (!_started)
        {
            _started = true;
            _firstMicros = nowMicros;
        }
        Advance(nowMicros);
        long bucket = BucketOf(nowMicros);
        if (bucket < _headBucket - _bytes.Length + 1)
            return; // older than the window
        _bytes[Slot(bucket)] += sizeBytes;
        _sum += sizeBytes;
    }

    /// <summary>Bits per second over the window, or false until half a window of data has been seen.</summary>
    public bool TryGetRate(long nowMicros, out long bps)
    {
        bps = 0;
        if (!_started)
            return false;
        long elapsed = nowMicros - _firstMicros;
        if (elapsed < _windowMicros / 2)
            return false;
        Advance(nowMicros);
        long span = Math.Min(elapsed + BucketMicros, _windowMicros);
        bps = _sum * 8 * 1_000_000 / span;
        return true;
    }

    public void Reset()
    {
        Array.Clear(_bytes);
        _sum = 0;
        _started = false;
        _headBucket = long.MinValue;
    }

    // Floor division: times before the origin (negative) still map to distinct buckets.
    private static long BucketOf(long micros) => micros >= 0 ? micros / BucketMicros : (micros - BucketMicros + 1) / BucketMicros;

    private int Slot(long bucket) => (int)(((bucket % _bytes.Length) + _bytes.Length) % _bytes.Length); // times may be negative

    private void Advance(long nowMicros)
    {
        long bucket = BucketOf(nowMicros);
        if (_headBucket == long.MinValue)
        {
            _headBucket = bucket;
            return;
        }
        if (bucket <= _headBucket)
            return;
        long steps = Math.Min(bucket - _headBucket, _bytes.Length);
        for (long i = 1; i <= steps; i++)
        {
            int slot = Slot(_headBucket + i);
            _sum -= _bytes[slot];
            _bytes[slot] = 0;
        }
        _headBucket = bucket;
    }
}
