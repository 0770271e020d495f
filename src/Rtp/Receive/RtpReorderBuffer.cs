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

    private Slot[]? _slots; // with the arena, at the first out-of-order packet: most streams never need them
    private byte[]? _arena;
    private readonly int _mask;
    private long _holdMicros;
    private long _expected;
    private long _releaseBefore = long.MinValue; // TryPop goes on past gaps below this at once (room for a packet far ahead)
    private bool _started;
    private int _count;

    // 512 x 1500 B: the hold (up to ~2.5 RTT) at 1080p rates (300-400 packets/s in a keyframe) fits the window.
    public RtpReorderBuffer(int capacity = 512, long holdMicros = 150_000)
    {
        if (capacity < 8 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two, at least 8");
        _mask = capacity - 1;
        _holdMicros = holdMicros;
    }

    public int Count => _count;
    public long HoldMicros => _holdMicros;
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
            if (_slots != null)
                Array.Clear(_slots);
            _count = 0;
            _expected = seqNo;
            return;
        }
        if (_count == 0)
        {
            SkippedPackets += seqNo - _expected;
            _expected = seqNo;
            return;
        }
        for (long s = _expected; s < seqNo; s++)
        {
            ref var slot = ref _slots![s & _mask];
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

    /// <summary>
    /// True when <paramref name="seqNo"/> lies further ahead than the window: call <see cref="MakeRoomFor"/>
    /// and drain with <see cref="TryPop"/> before inserting it, or Insert drops what is held.
    /// </summary>
    public bool IsBeyondWindow(long seqNo) => _started && seqNo - _expected > _mask;

    /// <summary>
    /// Gives up on the oldest gaps, at once, as far as needed for <paramref name="seqNo"/> to fit:
    /// the held packets before it come out of <see cref="TryPop"/> in order (none is thrown away).
    /// </summary>
    public void MakeRoomFor(long seqNo) => _releaseBefore = Math.Max(_releaseBefore, seqNo - _mask);

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
            if (_slots != null)
                Array.Clear(_slots);
            _count = 0;
            _expected = seqNo + 1;
            return ReorderResult.Deliver;
        }
        if (packet.Length > MaxPacketBytes)
            return ReorderResult.TooLarge;
        _slots ??= new Slot[_mask + 1];
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
        {
            if (_expected < _releaseBefore)
            {
                SkippedPackets += _releaseBefore - _expected;
                _expected = _releaseBefore;
            }
            return false;
        }
        ref var slot = ref _slots![_expected & _mask];
        if (!slot.Used)
        {
            long first = FirstHeld(out long oldestArrival);
            long to = first;
            if (_expected < _releaseBefore)
                to = Math.Min(first, _releaseBefore); // room for a packet far ahead: only as far as it needs
            else if (nowMicros - oldestArrival < _holdMicros)
                return false;
            SkippedPackets += to - _expected;
            _expected = to;
            slot = ref _slots[_expected & _mask];
            if (!slot.Used)
                return false; // room made; the gap now first waits out the hold as before
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
            ref readonly var slot = ref _slots![s & _mask];
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
