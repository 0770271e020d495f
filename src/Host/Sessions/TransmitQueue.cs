using Engine.Ice;

namespace Engine.Host.Sessions;

/// <summary>
/// A session's outgoing datagrams, in preallocated slots: a ring that overwrites nothing (a full
/// queue drops the new datagram and counts it, as a full socket buffer would).
/// </summary>
internal sealed class TransmitQueue
{
    public const int SlotBytes = 1500;

    private readonly byte[] _slots;
    private readonly int[] _lengths;
    private readonly NetAddress[] _to;
    private int _head, _count;

    public TransmitQueue(int capacity = 24)
    {
        _slots = new byte[capacity * SlotBytes];
        _lengths = new int[capacity];
        _to = new NetAddress[capacity];
    }

    public long Dropped { get; private set; }

    /// <summary>The next free slot to write a datagram into; commit it with <see cref="Commit"/>.</summary>
    public Span<byte> Reserve() =>
        _count == _lengths.Length ? Span<byte>.Empty : _slots.AsSpan(((_head + _count) % _lengths.Length) * SlotBytes, SlotBytes);

    public void Commit(int length, in NetAddress to)
    {
        if (_count == _lengths.Length || length <= 0)
        {
            if (_count == _lengths.Length)
                Dropped++;
            return;
        }
        int i = (_head + _count) % _lengths.Length;
        _lengths[i] = length;
        _to[i] = to;
        _count++;
    }

    public bool TryDequeue(Span<byte> destination, out int length, out NetAddress to)
    {
        if (_count == 0)
        {
            length = 0;
            to = default;
            return false;
        }
        length = _lengths[_head];
        to = _to[_head];
        _slots.AsSpan(_head * SlotBytes, length).CopyTo(destination);
        _head = (_head + 1) % _lengths.Length;
        _count--;
        return true;
    }
}
