namespace Engine.Rtp.Send;

/// <summary>
/// The pacer until congestion control exists: first in, first out, and a frame's packets are
/// spread over at most <c>burstMicros</c> so a large keyframe does not leave as one wire-speed
/// burst: each tick releases max(minPacketsPerTick, ceil(queued / ticks per burst)) packets, the
/// quota rising when more are queued, so a small frame leaves at once. A preallocated ring; allocates nothing.
/// </summary>
public sealed class BurstPacer : IRtpPacer
{
    private readonly long[] _queue;
    private readonly int _ticksPerBurst;
    private readonly int _minPacketsPerTick;
    private int _head;
    private int _count;
    private int _quota;
    private int _releasedThisTick;
    private long _tickStartMicros = long.MinValue;

    public BurstPacer(int capacity = 2048, long tickMicros = 1000, long burstMicros = 5000, int minPacketsPerTick = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minPacketsPerTick, 1);
        _minPacketsPerTick = minPacketsPerTick;
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tickMicros, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burstMicros, tickMicros);
        _queue = new long[capacity];
        TickMicros = tickMicros;
        _ticksPerBurst = (int)(burstMicros / tickMicros);
    }

    public long TickMicros { get; }
    public int QueuedPackets => _count;
    public long Dropped { get; private set; }

    public bool TryEnqueue(long packetId, int size, long nowMicros)
    {
        if (_count == _queue.Length)
        {
            Dropped++;
            return false;
        }
        _queue[(_head + _count) % _queue.Length] = packetId;
        _count++;
        // Whatever is queued now leaves within the burst's ticks.
        int needed = Math.Max(_minPacketsPerTick, (_count + _ticksPerBurst - 1) / _ticksPerBurst);
        if (needed > _quota)
            _quota = needed;
        return true;
    }

    public bool TryRelease(long nowMicros, out long packetId)
    {
        packetId = 0;
        if (_count == 0)
            return false;
        if (nowMicros >= _tickStartMicros + TickMicros || _tickStartMicros == long.MinValue)
        {
            _tickStartMicros = nowMicros;
            _releasedThisTick = 0;
        }
        if (_releasedThisTick >= _quota)
            return false;
        packetId = _queue[_head];
        _head = (_head + 1) % _queue.Length;
        _count--;
        _releasedThisTick++;
        if (_count == 0)
        {
            // The burst is over: the next frame starts its own.
            _quota = 0;
            _tickStartMicros = long.MinValue;
        }
        return true;
    }

    public long NextReleaseMicros =>
        _count == 0 ? long.MaxValue
        : _tickStartMicros == long.MinValue || _releasedThisTick < _quota ? long.MinValue
        : _tickStartMicros + TickMicros;
}
