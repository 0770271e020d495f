namespace Engine.Dtls.Record;

/// <summary>
/// FIFO of datagrams in reused slots: after the first few packets it allocates nothing, which keeps
/// application-data send/receive allocation-free. Grows (per handshake) up to a hard cap.
/// </summary>
internal sealed class DatagramQueue
{
    private const int MaxSlots = 256;
    private byte[][] _slots;
    private int[] _lengths;
    private int _head;
    private int _count;

    public DatagramQueue(int initialSlots)
    {
        _slots = new byte[initialSlots][];
        _lengths = new int[initialSlots];
        for (int i = 0; i < initialSlots; i++) _slots[i] = [];
    }

    public int Count => _count;

    public int PeekLength => _count == 0 ? 0 : _lengths[_head];

    /// <summary>Reserves the next slot; call <see cref="Commit"/> with the bytes written. False when the queue is at its cap.</summary>
    public bool TryBeginWrite(int capacity, out Span<byte> slot)
    {
        if (_count == _slots.Length && !TryGrow())
        {
            slot = default;
            return false;
        }
        int index = (_head + _count) % _slots.Length;
        if (_slots[index].Length < capacity) _slots[index] = new byte[Math.Max(capacity, 1536)];
        slot = _slots[index].AsSpan(0, capacity);
        return true;
    }

    public void Commit(int length)
    {
        _lengths[(_head + _count) % _slots.Length] = length;
        _count++;
    }

    /// <summary>Copies the oldest datagram out. If <paramref name="dst"/> is too small: false, length = bytes needed.</summary>
    public bool TryDequeue(Span<byte> dst, out int length)
    {
        if (_count == 0)
        {
            length = 0;
            return false;
        }
        length = _lengths[_head];
        if (dst.Length < length) return false;
        _slots[_head].AsSpan(0, length).CopyTo(dst);
        _head = (_head + 1) % _slots.Length;
        _count--;
        return true;
    }

    public void Clear()
    {
        _head = 0;
        _count = 0;
    }

    private bool TryGrow()
    {
        if (_slots.Length >= MaxSlots) return false;
        int size = Math.Min(MaxSlots, _slots.Length * 2);
        var slots = new byte[size][];
        var lengths = new int[size];
        for (int i = 0; i < size; i++)
        {
            if (i < _count)
            {
                slots[i] = _slots[(_head + i) % _slots.Length];
                lengths[i] = _lengths[(_head + i) % _slots.Length];
            }
            else
            {
                slots[i] = i < _slots.Length ? _slots[(_head + i) % _slots.Length] : [];
            }
        }
        _slots = slots;
        _lengths = lengths;
        _head = 0;
        return true;
    }
}
