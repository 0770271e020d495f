namespace Engine.Gcc;

/// <summary>
/// Spreads what the sender queues over time at <see cref="PacingFactor"/> × the target bitrate, in
/// bursts of at most <see cref="BurstMicros"/> worth of bytes: audio first (outside the budget),
/// retransmissions before new video, and padding when a probe cluster needs bytes the queues do not
/// have. Packets are opaque handles with a kind and a size; a packet that waited longer than
/// <see cref="MaxQueueMicros"/> comes back as <see cref="PacedPacket.Expired"/> and is counted.
/// Sans-IO: the owner polls with the time and sleeps until <see cref="NextWakeMicros"/>. Queues are
/// preallocated rings: enqueuing and polling allocate nothing.
/// </summary>
public sealed class Pacer
{
    /// <summary>libwebrtc's pacing factor: the queue drains fast enough that an encoder overshoot or a keyframe does not linger.</summary>
    public const double PacingFactor = 2.5;

    /// <summary>Bytes worth this long at the pacing rate may leave back to back (libwebrtc's 5 ms process interval).</summary>
    public const long BurstMicros = 5_000;

    /// <summary>A packet older than this is stale for real-time media (libwebrtc bounds its queue at 2 s too).</summary>
    public const long MaxQueueMicros = 2_000_000;

    /// <summary>Padding packets are at most this size (an RTX padding packet fills one MTU's worth of payload).</summary>
    public const int MaxPaddingBytes = 1200;

    /// <summary>Until a target is set, pace as if it were 300 kbps (a typical start).</summary>
    public const long DefaultTargetBps = 300_000;

    /// <summary>
    /// Retransmissions queued in any window this long carry at most the target's worth of bytes
    /// (libwebrtc's retransmission rate limiter: its window is 1 s, its rate the target). Without it
    /// a burst of losses (a join's GOP into a narrow link) NACKs back more than the link carries, the
    /// resends go first, new video waits past the queue bound and is lost in turn.
    /// </summary>
    public const long RetransmissionWindowMicros = 1_000_000;

    private const int MaxPendingProbes = 4;

    private readonly Ring _audio, _retransmission, _video;
    private readonly long _maxQueueMicros;
    private readonly int _maxPaddingBytes;
    private readonly ProbeCluster[] _probes = new ProbeCluster[MaxPendingProbes];
    private int _probeHead, _probeCount;
    private int _probeSentPackets, _probeSentBytes;
    private double _debtBytes;
    private long _lastMicros = long.MinValue;
    private long _pacingBps = (long)(DefaultTargetBps * PacingFactor);
    private long _targetBps = DefaultTargetBps;
    private double _resendTokens = DefaultTargetBps * (double)RetransmissionWindowMicros / 8_000_000;
    private long _resendTokensMicros = long.MinValue;

    /// <param name="capacityPerKind">Packets each of the audio, retransmission and video queues holds.</param>
    public Pacer(int capacityPerKind = 4096) : this(capacityPerKind, capacityPerKind, capacityPerKind) { }

    /// <param name="maxQueueMicros">A packet older than this is given back expired (<see cref="MaxQueueMicros"/> by default).</param>
    /// <param name="maxPaddingBytes">Largest padding packet (an RTP padding-only packet carries at most 255 octets of padding).</param>
    public Pacer(int audioCapacity, int retransmissionCapacity, int videoCapacity, long maxQueueMicros = MaxQueueMicros, int maxPaddingBytes = MaxPaddingBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(audioCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(retransmissionCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(videoCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueueMicros, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPaddingBytes, 1);
        _audio = new Ring(audioCapacity);
        _retransmission = new Ring(retransmissionCapacity);
        _video = new Ring(videoCapacity);
        _maxQueueMicros = maxQueueMicros;
        _maxPaddingBytes = maxPaddingBytes;
    }

    /// <summary>The enqueue time of the oldest queued packet, long.MaxValue when none waits.</summary>
    public long OldestEnqueuedMicros => Math.Min(_audio.OldestMicros, Math.Min(_retransmission.OldestMicros, _video.OldestMicros));

    /// <summary>How long the oldest queued packet has waited at <paramref name="nowMicros"/> (0 when none).</summary>
    public long QueueDelayMicros(long nowMicros)
    {
        long oldest = OldestEnqueuedMicros;
        return oldest == long.MaxValue ? 0 : Math.Max(0, nowMicros - oldest);
    }

    /// <summary>Probe clusters waiting or running.</summary>
    public int PendingProbes => _probeCount;

    public long PacingBps => _pacingBps;

    public int QueuedPackets => _audio.Count + _retransmission.Count + _video.Count;

    public long QueuedBytes => _audio.Bytes + _retransmission.Bytes + _video.Bytes;

    /// <summary>Refused because that kind's ring was full.</summary>
    public long DroppedFull { get; private set; }

    /// <summary>Given back as expired: they waited past <see cref="MaxQueueMicros"/>.</summary>
    public long Expired { get; private set; }

    public long ExpiredBytes { get; private set; }

    /// <summary>Retransmissions refused: the window's budget (<see cref="RetransmissionWindowMicros"/>) was spent.</summary>
    public long RetransmissionsOverBudget { get; private set; }

    /// <summary>Refused input (a size ≤ 0, or Padding, which only the pacer makes).</summary>
    public long InvalidPackets { get; private set; }

    public long PaddingBytesSent { get; private set; }

    public bool Probing => _probeCount > 0;

    /// <summary>The pacing rate becomes <see cref="PacingFactor"/> × <paramref name="targetBps"/>.</summary>
    public void SetTarget(long targetBps, long nowMicros)
    {
        Advance(nowMicros);
        RefillResendTokens(nowMicros);
        _targetBps = Math.Max(1, targetBps);
        _pacingBps = (long)(_targetBps * PacingFactor);
    }

    /// <summary>Queues a probe; it runs after those already queued (false when four wait already).</summary>
    public bool StartProbe(in ProbeCluster cluster)
    {
        if (_probeCount == MaxPendingProbes || cluster.TargetBps <= 0)
            return false;
        _probes[(_probeHead + _probeCount) % MaxPendingProbes] = cluster;
        _probeCount++;
        return true;
    }

    public bool TryEnqueue(PacedPacketKind kind, int size, long handle, long nowMicros)
    {
        if (size <= 0 || kind == PacedPacketKind.Padding || kind > PacedPacketKind.Padding)
        {
            InvalidPackets++;
            return false;
        }
        if (kind == PacedPacketKind.Retransmission)
        {
            RefillResendTokens(nowMicros);
            if (_resendTokens < size)
            {
                RetransmissionsOverBudget++;
                return false;
            }
        }
        Ring ring = RingOf(kind);
        if (!ring.TryPush(handle, size, nowMicros))
        {
            DroppedFull++;
            return false;
        }
        if (kind == PacedPacketKind.Retransmission)
            _resendTokens -= size;
        return true;
    }

    // A token bucket as deep as the window: the target's bytes per window, refilled at the target.
    private void RefillResendTokens(long nowMicros)
    {
        double cap = _targetBps * (double)RetransmissionWindowMicros / 8_000_000;
        if (_resendTokensMicros != long.MinValue && nowMicros > _resendTokensMicros)
            _resendTokens += _targetBps * (double)(nowMicros - _resendTokensMicros) / 8_000_000;
        if (_resendTokensMicros == long.MinValue || nowMicros > _resendTokensMicros)
            _resendTokensMicros = nowMicros;
        _resendTokens = Math.Min(_resendTokens, cap);
    }

    /// <summary>The next packet to send (or drop, when expired) at <paramref name="nowMicros"/>; false when nothing may leave now.</summary>
    public bool TryPoll(long nowMicros, out PacedPacket packet)
    {
        Advance(nowMicros);
        long oldest = nowMicros - _maxQueueMicros;
        if (TryExpire(_audio, PacedPacketKind.Audio, oldest, out packet)
            || TryExpire(_retransmission, PacedPacketKind.Retransmission, oldest, out packet)
            || TryExpire(_video, PacedPacketKind.Video, oldest, out packet))
            return true;

        if (_audio.Count > 0)
        {
            _audio.Pop(out long handle, out int size);
            packet = Sent(PacedPacketKind.Audio, size, handle);
            return true;
        }
        if (_debtBytes >= BurstBytes())
        {
            packet = default;
            return false;
        }
        if (_retransmission.Count > 0)
        {
            _retransmission.Pop(out long handle, out int size);
            packet = Sent(PacedPacketKind.Retransmission, size, handle);
            return true;
        }
        if (_video.Count > 0)
        {
            _video.Pop(out long handle, out int size);
            packet = Sent(PacedPacketKind.Video, size, handle);
            return true;
        }
        if (_probeCount > 0)
        {
            ref readonly var probe = ref _probes[_probeHead];
            int size = Math.Clamp(probe.MinBytes - _probeSentBytes, 1, _maxPaddingBytes);
            PaddingBytesSent += size;
            packet = Sent(PacedPacketKind.Padding, size, -1);
            return true;
        }
        packet = default;
        return false;
    }

    /// <summary>When to poll next: at or before now when something may leave, long.MaxValue when nothing waits.</summary>
    public long NextWakeMicros(long nowMicros)
    {
        if (_audio.Count > 0)
            return nowMicros;
        if (_retransmission.Count == 0 && _video.Count == 0 && _probeCount == 0)
            return long.MaxValue;
        long expiry = Math.Min(_retransmission.OldestMicros, _video.OldestMicros);
        if (expiry != long.MaxValue && expiry + _maxQueueMicros <= nowMicros)
            return nowMicros;
        double debt = DebtAt(nowMicros);
        if (debt < BurstBytes())
            return nowMicros;
        // Sleep until the debt is paid off: then a whole burst leaves together.
        long wake = nowMicros + (long)Math.Ceiling(debt * 8_000_000 / CurrentRateBps());
        return expiry == long.MaxValue ? wake : Math.Min(wake, expiry + _maxQueueMicros);
    }

    private PacedPacket Sent(PacedPacketKind kind, int size, long handle)
    {
        _debtBytes += size;
        int cluster = -1;
        if (_probeCount > 0 && kind != PacedPacketKind.Audio)
        {
            ref readonly var probe = ref _probes[_probeHead];
            cluster = probe.Id;
            _probeSentPackets++;
            _probeSentBytes += size;
            if (_probeSentPackets >= probe.MinPackets && _probeSentBytes >= probe.MinBytes)
            {
                _probeHead = (_probeHead + 1) % MaxPendingProbes;
                _probeCount--;
                _probeSentPackets = _probeSentBytes = 0;
            }
        }
        return new PacedPacket(kind, size, handle, cluster, false);
    }

    private bool TryExpire(Ring ring, PacedPacketKind kind, long oldestMicros, out PacedPacket packet)
    {
        if (ring.Count > 0 && ring.OldestMicros < oldestMicros)
        {
            ring.Pop(out long handle, out int size);
            Expired++;
            ExpiredBytes += size;
            packet = new PacedPacket(kind, size, handle, -1, true);
            return true;
        }
        packet = default;
        return false;
    }

    // A probe sends at its own rate: the point is to find out whether the path carries it.
    private long CurrentRateBps() => _probeCount > 0 ? Math.Max(_probes[_probeHead].TargetBps, 1) : Math.Max(_pacingBps, 1);

    private double BurstBytes() => Math.Max(1.0, CurrentRateBps() * (double)BurstMicros / 8_000_000);

    private double DebtAt(long nowMicros) =>
        _lastMicros == long.MinValue || nowMicros <= _lastMicros ? _debtBytes
        : Math.Max(0, _debtBytes - CurrentRateBps() * (double)(nowMicros - _lastMicros) / 8_000_000);

    private void Advance(long nowMicros)
    {
        _debtBytes = DebtAt(nowMicros);
        if (_lastMicros == long.MinValue || nowMicros > _lastMicros)
            _lastMicros = nowMicros;
    }

    private Ring RingOf(PacedPacketKind kind) =>
        kind == PacedPacketKind.Audio ? _audio : kind == PacedPacketKind.Retransmission ? _retransmission : _video;

    private sealed class Ring(int capacity)
    {
        private readonly long[] _handles = new long[capacity];
        private readonly int[] _sizes = new int[capacity];
        private readonly long[] _enqueuedMicros = new long[capacity];
        private int _head;

        public int Count { get; private set; }
        public long Bytes { get; private set; }
        public long OldestMicros => Count == 0 ? long.MaxValue : _enqueuedMicros[_head];

        public bool TryPush(long handle, int size, long nowMicros)
        {
            if (Count == _handles.Length)
                return false;
            int i = (_head + Count) % _handles.Length;
            _handles[i] = handle;
            _sizes[i] = size;
            _enqueuedMicros[i] = nowMicros;
            Count++;
            Bytes += size;
            return true;
        }

        public void Pop(out long handle, out int size)
        {
            handle = _handles[_head];
            size = _sizes[_head];
            _head = (_head + 1) % _handles.Length;
            Count--;
            Bytes -= size;
        }
    }
}
