namespace Engine.Host.Playback;

/// <summary>
/// Many players asking for a keyframe (joining, PLI, FIR) cost the publisher at most one request
/// per interval: the first passes, the rest inside the interval are counted and dropped.
/// </summary>
public sealed class KeyframeRequestCoalescer
{
    public const long DefaultIntervalMicros = 500_000;
    private readonly long _intervalMicros;
    private long _lastMicros = long.MinValue;

    public KeyframeRequestCoalescer(long intervalMicros = DefaultIntervalMicros) => _intervalMicros = intervalMicros;

    public long Passed { get; private set; }
    public long Coalesced { get; private set; }

    /// <summary>True when the request should go to the publisher now.</summary>
    public bool TryRequest(long nowMicros)
    {
        if (_lastMicros != long.MinValue && nowMicros - _lastMicros < _intervalMicros)
        {
            Coalesced++;
            return false;
        }
        _lastMicros = nowMicros;
        Passed++;
        return true;
    }
}
