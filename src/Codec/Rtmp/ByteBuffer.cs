namespace Engine.Codec.Rtmp;

/// <summary>
/// Bytes waiting to be sent (or parsed): appended at the end, consumed from the front. Grows by
/// doubling up to a limit and keeps its array, so steady use allocates nothing.
/// </summary>
internal sealed class ByteBuffer(int initialCapacity, int maxCapacity)
{
    private byte[] _data = new byte[initialCapacity];
    private int _start, _end;

    public int Length => _end - _start;
    public int MaxCapacity => maxCapacity;
    public ReadOnlySpan<byte> Span => _data.AsSpan(_start, _end - _start);

    /// <summary>Whether <paramref name="count"/> more bytes fit under the limit.</summary>
    public bool CanAppend(int count) => (long)Length + count <= maxCapacity;

    /// <summary>Space for <paramref name="count"/> bytes at the end, counted as written.</summary>
    public Span<byte> Reserve(int count)
    {
        if (_data.Length - _end < count)
            MakeRoom(count);
        var s = _data.AsSpan(_end, count);
        _end += count;
        return s;
    }

    public void Append(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    public void Consume(int count)
    {
        _start += Math.Min(count, Length);
        if (_start == _end)
            _start = _end = 0;
    }

    public void Clear() => _start = _end = 0;

    private void MakeRoom(int count)
    {
        int length = Length;
        if ((long)length + count > maxCapacity)
            throw new InvalidOperationException("buffer limit");
        if (_data.Length - length >= count && _start > 0)
        {
            _data.AsSpan(_start, length).CopyTo(_data);
        }
        else
        {
            long size = Math.Max(_data.Length, 256L);
            while (size < (long)length + count)
                size *= 2;
            var bigger = new byte[(int)Math.Min(size, Math.Max(maxCapacity, length + count))];
            _data.AsSpan(_start, length).CopyTo(bigger);
            _data = bigger;
        }
        _start = 0;
        _end = length;
    }
}
