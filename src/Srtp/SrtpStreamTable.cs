namespace Engine.Srtp;

/// <summary>
/// A fixed-capacity SSRC -> <see cref="SrtpStreamState"/> map, allocated once: states packed in an
/// array, open addressing (linear probing) over twice as many buckets, so a probe always ends.
/// </summary>
internal sealed class SrtpStreamTable
{
    public const int Capacity = 64;
    private const int BucketCount = Capacity * 2;

    private readonly SrtpStreamState[] _states = new SrtpStreamState[Capacity];
    private readonly byte[] _buckets = new byte[BucketCount]; // state index + 1; 0 = empty
    private int _count;

    public int Count => _count;
    public bool IsFull => _count == Capacity;

    public ref SrtpStreamState this[int slot] => ref _states[slot];

    public int Find(uint ssrc)
    {
        for (int b = Bucket(ssrc), probes = 0; probes < BucketCount; b = (b + 1) & (BucketCount - 1), probes++)
        {
            int entry = _buckets[b];
            if (entry == 0) return -1;
            if (_states[entry - 1].Ssrc == ssrc) return entry - 1;
        }
        return -1;
    }

    /// <summary>The slot for <paramref name="ssrc"/>, created if new; -1 when full.</summary>
    public int FindOrAdd(uint ssrc)
    {
        int slot = Find(ssrc);
        return slot >= 0 ? slot : Add(ssrc);
    }

    /// <summary>Adds an SSRC known to be absent; -1 when full.</summary>
    public int Add(uint ssrc)
    {
        if (_count == Capacity) return -1;
        int slot = _count++;
        _states[slot] = new SrtpStreamState { Ssrc = ssrc };
        Insert(ssrc, slot);
        return slot;
    }

    public bool Remove(uint ssrc)
    {
        int slot = Find(ssrc);
        if (slot < 0) return false;
        _count--;
        _states[slot] = _states[_count];
        _states[_count] = default;
        // Rare (RTCP BYE, stream end): rebuilding 128 buckets is simpler than tombstones.
        Array.Clear(_buckets);
        for (int i = 0; i < _count; i++) Insert(_states[i].Ssrc, i);
        return true;
    }

    private void Insert(uint ssrc, int slot)
    {
        int b = Bucket(ssrc);
        while (_buckets[b] != 0) b = (b + 1) & (BucketCount - 1);
        _buckets[b] = (byte)(slot + 1);
    }

    // Fibonacci hashing: SSRCs are random, but a sender may pick neighbours.
    private static int Bucket(uint ssrc) => (int)((ssrc * 2654435769u) >> 25);
}
