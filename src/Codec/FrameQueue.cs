using Engine.Rtp.Media;

namespace Engine.Codec;

/// <summary>One frame copied off the media thread: pooled bytes and the fields of its EncodedFrame.</summary>
internal struct QueuedFrame
{
    public byte[] Buffer;
    public int Length;
    public int Track;
    public MediaCodec Codec;
    public uint RtpTimestamp;
    public int ClockRate;
    public long SenderNtpMicros, ArrivalMicros;
    public bool IsKeyframe;
    public int Width, Height;
    public readonly ReadOnlySpan<byte> Data => Buffer.AsSpan(0, Length);
    public readonly bool IsVideo => Codec != MediaCodec.Opus;
}

/// <summary>
/// Single producer (the media thread, which never waits) and single consumer (an output's writer,
/// in the host). Bounded in frames and bytes; the producer decides what to drop when full. Nothing
/// here waits: the consumer polls, at its batch interval, and a backlog calls the wake-up it was
/// given (the host's writer thread waits on it).
/// </summary>
internal sealed class FrameQueue
{
    private readonly QueuedFrame[] _ring;
    private readonly long _maxBytes;
    // Kept buffers, small (audio, parameter sets) and large (video) apart so audio never holds a
    // keyframe-sized buffer; each list keeps at most KeptBuffers, the rest of a backlog goes to the GC.
    private readonly Stack<byte[]> _freeSmall = new(KeptBuffers), _freeLarge = new(KeptBuffers);
    public const int KeptBuffers = 16;
    private const int SmallBuffer = 2048;
    private readonly object _lock = new();
    private readonly Action? _backlog;
    private int _head, _count, _held; // _held: dequeued, not yet released
    private long _bytes;
    private bool _completed;

    public FrameQueue(int maxFrames, long maxBytes, Action? backlog = null)
    {
        _ring = new QueuedFrame[maxFrames];
        _maxBytes = maxBytes;
        _backlog = backlog;
    }

    private const int WakeBacklog = 32;

    public int Count => Volatile.Read(ref _count);

    public bool IsCompleted => Volatile.Read(ref _completed);

    /// <summary>Buffers kept for reuse (tests: the bound on what a backlog leaves behind).</summary>
    internal int KeptBufferCount
    {
        get { lock (_lock) return _freeSmall.Count + _freeLarge.Count; }
    }

    /// <summary>Copies the frame in; false (nothing queued) when full or completed.</summary>
    public bool TryEnqueue(int track, in EncodedFrame frame)
    {
        lock (_lock)
        {
            // The frame the consumer holds counts too: the bound is on buffers in flight.
            if (_completed || _count + _held >= _ring.Length || _bytes + frame.Data.Length > _maxBytes)
                return false;
        }
        var buffer = RentBuffer(frame.Data.Length);
        frame.Data.CopyTo(buffer);
        var q = new QueuedFrame
        {
            Buffer = buffer, Length = frame.Data.Length, Track = track, Codec = frame.Codec, RtpTimestamp = frame.RtpTimestamp,
            ClockRate = frame.ClockRate, SenderNtpMicros = frame.SenderNtpMicros, ArrivalMicros = frame.ArrivalMicros,
            IsKeyframe = frame.IsKeyframe, Width = frame.Width, Height = frame.Height,
        };
        bool wake;
        lock (_lock)
        {
            _ring[(_head + _count) % _ring.Length] = q;
            _count++;
            _bytes += q.Length;
            // The consumer wakes by itself every batch interval; a backlog wakes it early, once. One
            // wake-up per batch instead of per frame is most of an output's kernel time saved.
            wake = _count == WakeBacklog;
        }
        if (wake)
            _backlog?.Invoke();
        return true;
    }

    /// <summary>No more frames: the consumer drains what is queued, then sees false.</summary>
    public void Complete()
    {
        lock (_lock)
            _completed = true;
    }

    /// <summary>The oldest frame, or false (with <paramref name="ended"/> once completed and empty).</summary>
    public bool TryDequeue(out QueuedFrame frame, out bool ended)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                frame = default;
                ended = _completed;
                return false;
            }
            frame = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
            _held++;
            _bytes -= frame.Length;
            ended = false;
            return true;
        }
    }

    /// <summary>Gives a dequeued frame's buffer back for reuse.</summary>
    public void Release(ref QueuedFrame frame)
    {
        if (frame.Buffer != null)
        {
            lock (_lock)
            {
                _held--;
                var free = frame.Buffer.Length == SmallBuffer ? _freeSmall : _freeLarge;
                if (free.Count < KeptBuffers)
                    free.Push(frame.Buffer);
            }
        }
        frame.Buffer = null!;
    }

    // Buffers stay with their queue: the shared ArrayPool's per-thread caches do not fit one thread
    // renting and another returning dozens at a time, and allocated on the media thread. Here a buffer
    // is allocated only while more than KeptBuffers of a size class are in flight (a backlog), or for
    // a frame bigger than any before.
    private byte[] RentBuffer(int length)
    {
        bool small = length <= SmallBuffer;
        byte[]? buffer = null;
        lock (_lock)
        {
            var free = small ? _freeSmall : _freeLarge;
            if (free.Count > 0)
                buffer = free.Pop();
        }
        if (small)
            return buffer ?? new byte[SmallBuffer];
        if (buffer == null || buffer.Length < length)
            buffer = new byte[Math.Max(length, (buffer?.Length ?? 0) * 2)];
        return buffer;
    }
}
