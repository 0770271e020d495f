namespace Engine.Rtp.Receive;

/// <summary>
/// Decides which missing packets of one stream to ask for again with generic NACK (RFC 4585
/// §6.2.1), and when. A gap is requested at once, then again every round-trip time until the packet
/// arrives, a retry limit is hit or it is too old to be useful; a gap too large to track asks for a
/// keyframe instead. Sans-IO and allocation-free: a fixed ring indexed by sequence number.
/// </summary>
public sealed class NackGenerator
{
    private const long MinResendIntervalMicros = 20_000;

    private readonly Entry[] _ring;
    private readonly int _mask;
    private readonly int _maxRetries;
    private readonly long _maxAgeMicros;
    private long _highest = long.MinValue;
    private long _oldestMissing = long.MaxValue; // a lower bound: everything below is not missing
    private int _missingCount;
    private long _rttMicros = 100_000;

    public NackGenerator(int capacity = 512, int maxRetries = 10, long maxAgeMicros = 1_000_000)
    {
        if (capacity < 16 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two, at least 16");
        _ring = new Entry[capacity];
        _mask = capacity - 1;
        _maxRetries = maxRetries;
        _maxAgeMicros = maxAgeMicros;
    }

    public int MissingCount => _missingCount;
    public long NacksRequested { get; private set; }
    public long RecoveredAfterNack { get; private set; }
    public long GivenUp { get; private set; }
    /// <summary>Set when a gap overflowed the window: only a keyframe can repair the stream.</summary>
    public bool KeyframeNeeded { get; private set; }

    /// <summary>
    /// The wait before a NACK for the same packet is repeated: one RTT plus a margin. A sender answers
    /// a NACK only once per RTT of its own estimate (libwebrtc ignores a request for a packet it resent
    /// less than an RTT ago), and its retransmission takes an RTT plus its pacer's delay to come back:
    /// repeating after exactly one RTT is often ignored, or answered twice.
    /// </summary>
    public static long ResendIntervalMicros(long rttMicros) => Math.Max(MinResendIntervalMicros, rttMicros + Math.Max(20_000, rttMicros / 4));

    /// <summary>The current RTT (from RTCP RR/XR) sets the interval between repeated NACKs.</summary>
    public void SetRttMicros(long rttMicros) => _rttMicros = Math.Clamp(rttMicros, 1_000, 2_000_000);

    /// <summary>Clears <see cref="KeyframeNeeded"/>; returns what it was.</summary>
    public bool TakeKeyframeRequest()
    {
        bool k = KeyframeNeeded;
        KeyframeNeeded = false;
        return k;
    }

    /// <summary>
    /// Before the first packet: the stream may have begun at <paramref name="seqNo"/>, so the
    /// numbers from there to the first packet that arrives are asked for like any other gap.
    /// </summary>
    public void ExpectFrom(long seqNo)
    {
        if (_highest == long.MinValue)
            _highest = seqNo - 1;
    }

    /// <summary>Stops asking for anything below <paramref name="seqNo"/> (it was never part of the stream).</summary>
    public void ForgetBefore(long seqNo)
    {
        if (_missingCount == 0 || _highest == long.MinValue)
            return;
        long from = Math.Max(_oldestMissing, _highest - _mask);
        for (long s = from; s < seqNo && s < _highest; s++)
        {
            ref var e = ref _ring[s & _mask];
            if (e.Missing && e.SeqNo == s)
            {
                e.Missing = false;
                _missingCount--;
            }
        }
        if (_oldestMissing < seqNo)
            _oldestMissing = seqNo;
    }

    /// <summary>A packet arrived (after SRTP); <paramref name="seqNo"/> is unwrapped.</summary>
    public void OnPacket(long seqNo, long nowMicros)
    {
        if (_highest == long.MinValue)
        {
            _highest = seqNo;
            return;
        }
        if (seqNo <= _highest)
        {
            if (_highest - seqNo <= _mask)
            {
                ref var e = ref _ring[seqNo & _mask];
                if (e.Missing && e.SeqNo == seqNo)
                {
                    if (e.Retries > 0)
                        RecoveredAfterNack++;
                    e.Missing = false;
                    _missingCount--;
                }
            }
            return;
        }
        long gap = seqNo - _highest - 1;
        if (gap >= _ring.Length)
        {
            // Too many to ask for: forget them all and repair with a keyframe.
            Array.Clear(_ring);
            GivenUp += _missingCount + gap;
            _missingCount = 0;
            _oldestMissing = long.MaxValue;
            KeyframeNeeded = true;
        }
        else
        {
            for (long s = _highest + 1; s < seqNo; s++)
            {
                ref var e = ref _ring[s & _mask];
                if (e.Missing)
                {
                    // The slot still holds a packet from one lap ago: it has aged out.
                    GivenUp++;
                    _missingCount--;
                }
                e = new Entry { SeqNo = s, Missing = true, DetectedMicros = nowMicros, LastSentMicros = long.MinValue };
                _missingCount++;
                if (s < _oldestMissing)
                    _oldestMissing = s;
            }
        }
        // The slot the new packet takes may hold an old missing entry.
        ref var slot = ref _ring[seqNo & _mask];
        if (slot.Missing && slot.SeqNo != seqNo)
        {
            GivenUp++;
            _missingCount--;
        }
        slot = default;
        _highest = seqNo;
    }

    /// <summary>
    /// Writes the sequence numbers to NACK now into <paramref name="destination"/> (oldest first) and
    /// returns how many. Entries past the retry limit or the age limit are dropped.
    /// </summary>
    public int CollectNacks(long nowMicros, Span<long> destination)
    {
        if (_missingCount == 0)
            return 0;
        int n = 0;
        long interval = ResendIntervalMicros(_rttMicros);
        long from = Math.Max(_oldestMissing, _highest - _mask);
        long newOldest = long.MaxValue;
        for (long s = from; s < _highest; s++)
        {
            ref var e = ref _ring[s & _mask];
            if (!e.Missing || e.SeqNo != s)
                continue;
            if (e.Retries >= _maxRetries || nowMicros - e.DetectedMicros > _maxAgeMicros)
            {
                e.Missing = false;
                _missingCount--;
                GivenUp++;
                continue;
            }
            if (newOldest == long.MaxValue)
                newOldest = s;
            if (n < destination.Length && (e.LastSentMicros == long.MinValue || nowMicros - e.LastSentMicros >= interval))
            {
                destination[n++] = s;
                e.LastSentMicros = nowMicros;
                e.Retries++;
                NacksRequested++;
            }
        }
        _oldestMissing = newOldest;
        return n;
    }

    /// <summary>When <see cref="CollectNacks"/> has something to send next; long.MaxValue when nothing is missing.</summary>
    public long NextTimeoutMicros(long nowMicros)
    {
        if (_missingCount == 0)
            return long.MaxValue;
        long interval = ResendIntervalMicros(_rttMicros);
        long next = long.MaxValue;
        long from = Math.Max(_oldestMissing, _highest - _mask);
        for (long s = from; s < _highest; s++)
        {
            ref readonly var e = ref _ring[s & _mask];
            if (!e.Missing || e.SeqNo != s)
                continue;
            long due = e.LastSentMicros == long.MinValue ? nowMicros : e.LastSentMicros + interval;
            due = Math.Min(due, e.DetectedMicros + _maxAgeMicros + 1);
            if (due < next)
                next = due;
        }
        return next;
    }

    private struct Entry
    {
        public long SeqNo;
        public long DetectedMicros;
        public long LastSentMicros;
        public int Retries;
        public bool Missing;
    }
}
