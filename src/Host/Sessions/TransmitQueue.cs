using Engine.Ice;

namespace Engine.Host.Sessions;

/// <summary>
/// A session's outgoing datagrams, in preallocated slots: a ring that overwrites nothing (a full
/// queue drops the new datagram and counts it, as a full socket buffer would). Slot storage comes
/// in chunks at first use, and an emptied queue starts again at slot 0, so a peer holds only as many
/// slots as it ever had queued at once (a player: its handshake's flights, then one RTCP datagram at a time).
/// </summary>
internal sealed class TransmitQueue
{
    public const int SlotBytes = 1500;
    private const int SlotsPerChunk = 4;

    private readonly byte[]?[] _chunks;
    private readonly int[] _lengths;
    private readonly NetAddress[] _to;
    private int _head, _count;

    public TransmitQueue(int capacity = 24)
    {
        _chunks = new byte[]?[(capacity + SlotsPerChunk - 1) / SlotsPerChunk];
        _lengths = new int[capacity];
        _to = new NetAddress[capacity];
    }

    public long Dropped { get; private set; }

    /// <summary>The next free slot to write a datagram into; commit it with <see cref="Commit"/>.</summary>
    public Span<byte> Reserve() =>
        _count == _lengths.Length ? Span<byte>.Empty : Slot((_head + _count) % _lengths.Length);

    /// <summary>Bytes of slot storage allocated so far.</summary>
    public long StorageBytes
    {
        get
        {
            long n = 0;
            foreach (var c in _chunks)
                n += c?.Length ?? 0;
            return n;
        }
    }

    private Span<byte> Slot(int i) =>
        (_chunks[i / SlotsPerChunk] ??= new byte[SlotsPerChunk * SlotBytes]).AsSpan(i % SlotsPerChunk * SlotBytes, SlotBytes);

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
        Slot(_head)[..length].CopyTo(destination);
        _head = (_head + 1) % _lengths.Length;
        if (--_count == 0)
            _head = 0; // the same first slots again: the chunks beyond the most ever queued are never allocated
        return true;
    }
}
