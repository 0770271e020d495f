namespace Engine.Gcc;

/// <summary>
/// Decides when to probe (libwebrtc's ProbeController, reduced): at start two clusters at
/// <see cref="InitialFirstFactor"/>× and <see cref="InitialSecondFactor"/>× the start rate; while
/// each result comes back above <see cref="FurtherProbeThreshold"/> of what was probed, again at
/// twice the result (exponential probing, how a fast path is found in seconds rather than at 8%/s);
/// in an application-limited period every <see cref="AlrProbeIntervalMicros"/> at twice the
/// estimate, since media alone cannot show the path has room; and "room" probes (ours): when the
/// sender is not app-limited, the delay-based controller is what limits it and is searching (the
/// acknowledged rate went past its last capacity estimate: the link may have grown) and it has seen no
/// over-use for <see cref="RoomQuietMicros"/>, at most every <see cref="RoomProbeIntervalMicros"/>, at
/// <see cref="RoomProbeFactor"/>× the estimate, and again 1.5× higher while each is carried
/// unsaturated, since the AIMD alone climbs to a risen capacity at 8%/s.
/// </summary>
public sealed class ProbeController
{
    public const double InitialFirstFactor = 3, InitialSecondFactor = 6;

    /// <summary>libwebrtc's kRepeatedProbeMinPercentage-like bound: a result over 70% of the probe means there may be more.</summary>
    public const double FurtherProbeThreshold = 0.7;

    public const double FurtherProbeFactor = 2, AlrProbeFactor = 2;

    /// <summary>libwebrtc's ALR probing interval.</summary>
    public const long AlrProbeIntervalMicros = 5_000_000;

    /// <summary>As the ALR interval: a room probe that found nothing is not repeated sooner.</summary>
    public const long RoomProbeIntervalMicros = 5_000_000;

    /// <summary>
    /// 1.5× per step, not the 2× of the others: two flows sharing a link both probe, and a competitor's frame
    /// bursts leave gaps a probe reads as room. Measured on RFC 8867 §5.2: at 2×, Jain 30–125 s 0.987 (1.5×:
    /// 0.998) and p95 64 ms in the first phase (1.5×: 42 ms); §5.1's 40–60 s read 88 % (1.5×: 87 %).
    /// </summary>
    public const double RoomProbeFactor = 1.5;

    /// <summary>
    /// Room probes are longer than the others (10 packets, 40 ms): at 1.5× carried and saturated differ by
    /// little. With 5 packets and 15 ms §5.2's two flows read more room than there was (first-phase p95 73 ms,
    /// Jain 30–125 s 0.968, against 42 ms and 0.998). They run only while searching, not at a full link.
    /// </summary>
    public const int RoomProbeMinPackets = 10;
    public const long RoomProbeMinDurationMicros = 40_000;

    /// <summary>
    /// No over-use for this long first: right after a cut the queue is still draining and the estimate is
    /// below the link by the cut, so a probe would measure the cut, not new room (2 s measured the same).
    /// </summary>
    public const long RoomQuietMicros = 3_000_000;

    /// <summary>
    /// A room probe's result counts only when it did not saturate the path (it arrived at its send rate: a
    /// saturated one on a link the sender, or a competitor with it, already fills comes back at its share of
    /// the link during the burst, not room) and is this much above the estimate (a few percent says nothing
    /// new, and a raise restarts the AIMD's search from where it stands).
    /// </summary>
    public const double RoomProbeMinGain = 1.1;

    /// <summary>A probe's result that has not come within this time is not coming (libwebrtc: 1 s).</summary>
    public const long ResultTimeoutMicros = 1_000_000;

    /// <summary>libwebrtc: at least 5 packets and 15 ms at the probe rate, so the receive span means something.</summary>
    public const int MinPackets = 5;
    public const long MinDurationMicros = 15_000;

    /// <summary>
    /// A cluster asks for at least this many bytes per packet. The pacer pads a cluster up to its bytes, and
    /// once those are sent its remaining packets are 1-byte paddings: a 5-packet cluster at 0.9 Mbps then
    /// measured timing, not rate (1690 bytes in 5 packets). With full packets the start probes of a flow that
    /// joins a full link stopped overshooting (RFC 8867 §5.2's first phase: p95 42 ms instead of 64 ms).
    /// </summary>
    public const int FullPacketBytes = 1200;

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
    private bool _searching;
    private bool _roomProbeOut; // a room probe's result is awaited
    private long _lastOveruseMicros = long.MinValue / 2;

    public ProbeController(long minBps, long maxBps, long startBps)
    {
        _minBps = minBps;
        _maxBps = maxBps;
        _estimateBps = Math.Clamp(startBps, minBps, maxBps);
    }

    public long ProbesStarted { get; private set; }

    /// <summary>Of those, room probes (the first of each room search).</summary>
    public long RoomProbesStarted { get; private set; }

    /// <summary>The estimate the sender uses now; an ALR probe goes above it.</summary>
    public void OnEstimate(long estimateBps) => _estimateBps = estimateBps;

    /// <summary>
    /// The delay-based side's state after a feedback report: whether it is searching (it is what limits the
    /// target, loss and REMB not holding it lower, and it increases multiplicatively: the acknowledged rate
    /// went past its last capacity estimate, or it never had one) and whether the detector reads over-use now.
    /// </summary>
    public void OnDelayState(bool searching, bool overusing, long nowMicros)
    {
        _searching = searching;
        if (overusing)
            _lastOveruseMicros = nowMicros;
    }

    /// <summary>A probe's measured rate (not known whether saturated); see the overload.</summary>
    public bool OnProbeResult(long bps, long nowMicros) => OnProbeResult(bps, false, nowMicros);

    /// <summary>
    /// A probe's measured rate: if it came close to what was probed, the path may carry more: probe higher.
    /// Returns whether the estimates may take it (false for a room probe that was not carried).
    /// </summary>
    public bool OnProbeResult(long bps, bool saturated, long nowMicros)
    {
        if (_roomProbeOut)
        {
            _roomProbeOut = false;
            if (saturated || bps <= RoomProbeMinGain * _estimateBps)
            {
                _exponential = false;
                return false;
            }
            if (bps < _maxBps)
                ScheduleRoom((long)(RoomProbeFactor * bps), nowMicros);
            return true;
        }
        if (!_exponential)
            return true;
        // A result under the bar ends nothing by itself: a higher cluster's result may still be on its way
        // (the initial two are measured one after the other); probing ends when none follows within the timeout.
        if (bps > FurtherProbeThreshold * _highestProbeBps && _highestProbeBps < _maxBps)
            Schedule((long)(FurtherProbeFactor * bps), nowMicros);
        return true;
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
        {
            _exponential = false;
            _roomProbeOut = false;
        }
        if (!_exponential && _pendingCount == 0 && inAlr && _estimateBps < _maxBps
            && nowMicros - _lastProbeMicros >= AlrProbeIntervalMicros)
            Schedule((long)(AlrProbeFactor * _estimateBps), nowMicros);
        if (!_exponential && _pendingCount == 0 && !inAlr && _searching && _estimateBps < _maxBps
            && nowMicros - _lastOveruseMicros >= RoomQuietMicros && nowMicros - _lastProbeMicros >= RoomProbeIntervalMicros)
        {
            ScheduleRoom((long)(RoomProbeFactor * _estimateBps), nowMicros);
            RoomProbesStarted++;
        }
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

    private void ScheduleRoom(long bps, long nowMicros)
    {
        int before = _pendingCount;
        Schedule(bps, nowMicros, RoomProbeMinPackets, RoomProbeMinDurationMicros);
        _roomProbeOut = _pendingCount > before;
    }

    private void Schedule(long bps, long nowMicros, int minPackets = MinPackets, long minDurationMicros = MinDurationMicros)
    {
        bps = Math.Clamp(bps, _minBps, _maxBps);
        if (_pendingCount == MaxPending || bps <= _highestProbeBps && _exponential)
        {
            _exponential = false;
            return;
        }
        int minBytes = (int)Math.Max(minPackets * FullPacketBytes, bps * minDurationMicros / 8_000_000);
        _pending[_pendingCount++] = new ProbeCluster(_nextId++, bps, minPackets, minBytes);
        _highestProbeBps = _exponential ? Math.Max(_highestProbeBps, bps) : bps;
        _exponential = true;
        _lastProbeMicros = nowMicros;
    }
}
