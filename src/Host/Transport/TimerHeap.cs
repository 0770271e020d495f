namespace Engine.Host.Transport;

/// <summary>
/// A binary min-heap of deadlines with at most one entry per key: setting a key's deadline moves
/// its entry, so however many inputs a session gets, the heap holds one entry for it (a flood of
/// datagrams cannot grow it) and removing a session is O(log n). Allocation-free once the arrays
/// have grown to the number of keys.
/// </summary>
public sealed class TimerHeap<T> where T : class
{
    private T[] _keys = new T[16];
    private long[] _due = new long[16];
    private readonly Dictionary<T, int> _index = new(ReferenceEqualityComparer.Instance);

    public int Count { get; private set; }

    public bool Contains(T key) => _index.ContainsKey(key);

    /// <summary>Inserts or moves the key's one entry; <see cref="long.MaxValue"/> removes it.</summary>
    public void Set(T key, long dueMicros)
    {
        if (dueMicros == long.MaxValue)
        {
            Remove(key);
            return;
        }
        if (_index.TryGetValue(key, out int i))
        {
            long old = _due[i];
            _due[i] = dueMicros;
            if (dueMicros < old)
                Up(i);
            else
                Down(i);
            return;
        }
        if (Count == _keys.Length)
        {
            Array.Resize(ref _keys, Count * 2);
            Array.Resize(ref _due, Count * 2);
        }
        i = Count++;
        _keys[i] = key;
        _due[i] = dueMicros;
        _index[key] = i;
        Up(i);
    }

    public bool Remove(T key)
    {
        if (!_index.Remove(key, out int i))
            return false;
        int last = --Count;
        if (i != last)
        {
            _keys[i] = _keys[last];
            _due[i] = _due[last];
            _index[_keys[i]] = i;
        }
        _keys[last] = null!;
        if (i != last)
        {
            Up(i);
            Down(i);
        }
        return true;
    }

    public bool TryPeek(out T key, out long dueMicros)
    {
        if (Count == 0)
        {
            (key, dueMicros) = (null!, long.MaxValue);
            return false;
        }
        (key, dueMicros) = (_keys[0], _due[0]);
        return true;
    }

    /// <summary>Takes the earliest entry if it is due at <paramref name="nowMicros"/>.</summary>
    public bool TryPopDue(long nowMicros, out T key)
    {
        if (Count == 0 || _due[0] > nowMicros)
        {
            key = null!;
            return false;
        }
        key = _keys[0];
        Remove(key);
        return true;
    }

    private void Up(int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (_due[parent] <= _due[i])
                return;
            Swap(i, parent);
            i = parent;
        }
    }

    private void Down(int i)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, min = i;
            if (l < Count && _due[l] < _due[min])
                min = l;
            if (r < Count && _due[r] < _due[min])
                min = r;
            if (min == i)
                return;
            Swap(i, min);
            i = min;
        }
    }

    private void Swap(int a, int b)
    {
        (_keys[a], _keys[b]) = (_keys[b], _keys[a]);
        (_due[a], _due[b]) = (_due[b], _due[a]);
        _index[_keys[a]] = a;
        _index[_keys[b]] = b;
    }
}
