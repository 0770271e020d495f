namespace Engine.Gcc;

/// <summary>
/// Decides when to probe (libwebrtc's ProbeController, reduced): at start two clusters at
/// <see cref="InitialFirstFactor"/>× and <see cref="InitialSecondFactor"/>× the start rate; while
/// each result comes back above <see cref="FurtherProbeThreshold"/> of what was probed, again at
/// twice the result (exponential probing, how a fast path is found in seconds rather than at 8%/s);
/// and in an application-limited period every <see cref="AlrProbeIntervalMicros"/> at twice the
/// estimate, since media alone cannot show the path has room.
/// </summary>
public sealed class ProbeController
{
    public const double InitialFirstFactor = 3, InitialSecondFactor = 6;

    /// <summary>libwebrtc's kRepeatedProbeMinPercentage-like bound: a result over 70% of the probe means there may be more.</summary>
    public const double FurtherProbeThreshold = 0.7;

    public const double FurtherProbeFactor = 2, AlrProbeFactor = 2;

    /// <summary>libwebrtc's ALR probing interval.</summary>
    public const long AlrProbeIntervalMicros = 5_000_000;

    /// <summary>A probe's result that has not come within this time is not coming (libwebrtc: 1 s).</summary>
    public const long ResultTimeoutMicros = 1_000_000;

    /// <summary>libwebrtc: at least 5 packets and 15 ms at the probe rate, so the receive span means something.</summary>
    public const int MinPackets = 5;
    public const long MinDurationMicros = 15_000;

    private const int MaxPending = 4;

    private readonly long _minBps, _maxBps;
    private readonly ProbeCluster[] _pending = new ProbeCluster[MaxPending];
    private int _pendingCount;
    private int _nextId = 1;
    private bool _started;
    private bool _exponential;
    private long _highestProbeBps;
    private long _lastProbeMicros = long.MinValue / 2;
    private long _estimateBps;

    public ProbeController(long minBps, long maxBps, long startBps)
    {
        _minBps = minBps;
        _maxBps = maxBps;
        _estimateBps = Math.Clamp(startBps, minBps, maxBps);
    }

    public long ProbesStarted { get; private set; }

    /// <summary>The estimate the sender uses now; an ALR probe goes above it.</summary>
    public void OnEstimate(long estimateBps) => _estimateBps = estimateBps;

    /// <summary>A probe's measured rate: if it came close to what was probed, the path may carry more: probe higher.</summary>
    public void OnProbeResult(long bps, long nowMicros)
    {
        if (!_exponential)
            return;
        // A result under the bar ends nothing by itself: a higher cluster's result may still be on its way
        // (the initial two are measured one after the other); probing ends when none follows within the timeout.
        if (bps > FurtherProbeThreshold * _highestProbeBps && _highestProbeBps < _maxBps)
            Schedule((long)(FurtherProbeFactor * bps), nowMicros);
    }

    /// <summary>Called with the time (and whether the sender is app-limited); returns a cluster when one should be sent now.</summary>
    public bool TryTakeProbe(long nowMicros, bool inAlr, out ProbeCluster cluster)
    {
        if (!_started)
        {
            _started = true;
            long start = _estimateBps;
            Schedule((long)(InitialFirstFactor * start), nowMicros);
            Schedule((long)(InitialSecondFactor * start), nowMicros);
        }
        if (_exponential && _pendingCount == 0 && nowMicros - _lastProbeMicros > ResultTimeoutMicros)
            _exponential = false;
        if (!_exponential && _pendingCount == 0 && inAlr && _estimateBps < _maxBps
            && nowMicros - _lastProbeMicros >= AlrProbeIntervalMicros)
            Schedule((long)(AlrProbeFactor * _estimateBps), nowMicros);
        if (_pendingCount == 0)
        {
            cluster = default;
            return false;
        }
        cluster = _pending[0];
        _pendingCount--;
        for (int i = 0; i < _pendingCount; i++)
            _pending[i] = _pending[i + 1];
        ProbesStarted++;
        return true;
    }

    private void Schedule(long bps, long nowMicros)
    {
        bps = Math.Clamp(bps, _minBps, _maxBps);
        if (_pendingCount == MaxPending || bps <= _highestProbeBps && _exponential)
        {
            _exponential = false;
            return;
        }
        int minBytes = (int)Math.Max(1, bps * MinDurationMicros / 8_000_000);
        _pending[_pendingCount++] = new ProbeCluster(_nextId++, bps, MinPackets, minBytes);
        _highestProbeBps = _exponential ? Math.Max(_highestProbeBps, bps) : bps;
        _exponential = true;
        _lastProbeMicros = nowMicros;
    }
}
