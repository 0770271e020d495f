namespace Engine.Rtp.Receive;

/// <summary>
/// Puts the packets of one stream back in sequence order, holding a packet that arrives after a
/// gap for at most the hold time (long enough for a NACK to be answered), then giving up on the gap.
/// In-order packets pass through without a copy; held ones live in a preallocated arena, so nothing
/// is allocated per packet. Sans-IO: time comes in, the next deadline goes out.
/// </summary>
public sealed class RtpReorderBuffer
{
    public const int MaxPacketBytes = 1500;

    private readonly Slot[] _slots;
    private byte[]? _arena; // allocated at the first out-of-order packet: most streams never need it
    private readonly int _mask;
    private long _holdMicros;
    private long _expected;
    private bool _started;
    private int _count;

    public RtpReorderBuffer(int capacity = 128, long holdMicros = 150_000)
    {
        if (capacity < 8 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two, at least 8");
        _slots = new Slot[capacity];
        _mask = capacity - 1;
        _holdMicros = holdMicros;
    }

    public int Count => _count;
    /// <summary>The next sequence number due.</summary>
    public long Expected => _expected;
    /// <summary>Sequence numbers given up on after the hold time (or a jump past the window).</summary>
    public long SkippedPackets { get; private set; }
    /// <summary>Held packets thrown away because the stream jumped further than the window.</summary>
    public long FlushedPackets { get; private set; }

    /// <summary>Tracks RTT: a retransmission needs about one round trip to arrive.</summary>
    public void SetHoldMicros(long holdMicros) => _holdMicros = Math.Clamp(holdMicros, 10_000, 1_000_000);

    /// <summary>Before the first packet: the stream may have begun at <paramref name="seqNo"/>; wait for what comes before the first arrival.</summary>
    public void StartAt(long seqNo)
    {
        if (_started)
            return;
        _started = true;
        _expected = seqNo;
    }

    /// <summary>Gives up on everything below <paramref name="seqNo"/> now (it is known not to matter).</summary>
    public void SkipTo(long seqNo)
    {
        if (seqNo <= _expected)
            return;
        if (seqNo - _expected > _mask)
        {
            FlushedPackets += _count;
            SkippedPackets += seqNo - _expected - _count;
            Array.Clear(_slots);
            _count = 0;
            _expected = seqNo;
            return;
        }
        for (long s = _expected; s < seqNo; s++)
        {
            ref var slot = ref _slots[s & _mask];
            if (slot.Used && slot.SeqNo == s)
            {
                slot.Used = false;
                _count--;
                FlushedPackets++;
            }
            else
            {
                SkippedPackets++;
            }
        }
        _expected = seqNo;
    }

    public ReorderResult Insert(long seqNo, ReadOnlySpan<byte> packet, long nowMicros)
    {
        if (!_started)
        {
            _started = true;
            _expected = seqNo;
        }
        if (seqNo < _expected)
            return ReorderResult.Late;
        if (seqNo == _expected)
        {
            _expected++;
            return ReorderResult.Deliver;
        }
        if (seqNo - _expected > _mask)
        {
            // Further ahead than the window: what is held is from before a jump that only a
            // keyframe repairs. Drop it and restart from here.
            FlushedPackets += _count;
            SkippedPackets += seqNo - _expected - _count;
            Array.Clear(_slots);
            _count = 0;
            _expected = seqNo + 1;
            return ReorderResult.Deliver;
        }
        if (packet.Length > MaxPacketBytes)
            return ReorderResult.TooLarge;
        ref var slot = ref _slots[seqNo & _mask];
        if (slot.Used)
            return ReorderResult.Duplicate;
        _arena ??= new byte[_slots.Length * MaxPacketBytes];
        packet.CopyTo(_arena.AsSpan((int)(seqNo & _mask) * MaxPacketBytes));
        slot = new Slot { SeqNo = seqNo, Length = packet.Length, ArrivalMicros = nowMicros, Used = true };
        _count++;
        return ReorderResult.Buffered;
    }

    /// <summary>
    /// The next held packet that may go on now: the expected one, or, once the oldest held packet has
    /// waited the hold time, the first one after the gap. Its bytes are valid until the next Insert.
    /// </summary>
    public bool TryPop(long nowMicros, out long seqNo, out ReadOnlySpan<byte> packet)
    {
        seqNo = 0;
        packet = default;
        if (_count == 0)
            return false;
        ref var slot = ref _slots[_expected & _mask];
        if (!slot.Used)
        {
            long first = FirstHeld(out long oldestArrival);
            if (nowMicros - oldestArrival < _holdMicros)
                return false;
            SkippedPackets += first - _expected;
            _expected = first;
            slot = ref _slots[_expected & _mask];
        }
        seqNo = _expected;
        packet = _arena!.AsSpan((int)(_expected & _mask) * MaxPacketBytes, slot.Length);
        slot.Used = false;
        _count--;
        _expected++;
        return true;
    }

    /// <summary>When TryPop will give up on the current gap; long.MaxValue when nothing is held.</summary>
    public long NextTimeoutMicros
    {
        get
        {
            if (_count == 0)
                return long.MaxValue;
            FirstHeld(out long oldestArrival);
            return oldestArrival + _holdMicros;
        }
    }

    private long FirstHeld(out long oldestArrival)
    {
        long first = -1;
        oldestArrival = long.MaxValue;
        int seen = 0;
        for (long s = _expected; seen < _count && s <= _expected + _mask; s++)
        {
            ref readonly var slot = ref _slots[s & _mask];
            if (!slot.Used)
                continue;
            if (first < 0)
                first = s;
            oldestArrival = Math.Min(oldestArrival, slot.ArrivalMicros);
            seen++;
        }
        return first;
    }

    private struct Slot
    {
        public long SeqNo;
        public long ArrivalMicros;
        public int Length;
        public bool Used;
    }
}
