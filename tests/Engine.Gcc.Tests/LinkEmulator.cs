namespace Engine.Gcc.Tests;

/// <summary>What became of a packet given to the <see cref="LinkEmulator"/>.</summary>
public readonly record struct LinkOutcome(bool Delivered, long ArrivalMicros, bool DroppedByQueue);

/// <summary>
/// A deterministic one-bottleneck path on a virtual clock: a FIFO served at a (scheduled) capacity,
/// tail drop past a queue limit, then random or Gilbert-Elliott loss, one-way delay and jitter.
/// Packets must be given in non-decreasing send time; the outcome is known at once.
/// </summary>
public sealed class LinkEmulator
{
    private readonly Random _rng;
    private readonly List<(long AtMicros, long Bps)> _capacity;
    private readonly Queue<(long DepartMicros, int Size)> _inQueue = new();
    private long _queuedBytes;
    private long _linkFreeMicros;
    private long _lastArrivalMicros;
    private bool _badState;

    public LinkEmulator(int seed, long capacityBps)
    {
        _rng = new Random(seed);
        _capacity = [(0, capacityBps)];
    }

    public long OneWayDelayMicros { get; init; }

    /// <summary>Uniform extra delay in [0, JitterMicros].</summary>
    public long JitterMicros { get; init; }

    /// <summary>Jittered packets still leave in order (a jittery but FIFO link).</summary>
    public bool KeepOrder { get; init; } = true;

    /// <summary>Tail drop when the queue would hold more than this many microseconds of data (0: no limit).</summary>
    public long QueueLimitMicros { get; init; }

    /// <summary>Tail drop when the queue would hold more than this many bytes (0: no limit).</summary>
    public long QueueLimitBytes { get; init; }

    /// <summary>Independent loss probability per packet.</summary>
    public double RandomLoss { get; init; }

    /// <summary>Gilbert-Elliott: P(good→bad), P(bad→good) per packet and the loss rate while bad (0 disables).</summary>
    public double GoodToBad { get; init; }
    public double BadToGood { get; init; } = 1;
    public double BadLoss { get; init; } = 1;

    public long Sent { get; private set; }
    public long QueueDrops { get; private set; }
    public long RandomDrops { get; private set; }

    /// <summary>A whole capacity schedule: (time, bps) pairs in time order; the first applies from time 0.</summary>
    public LinkEmulator(int seed, IReadOnlyList<(long AtMicros, long Bps)> schedule) : this(seed, schedule[0].Bps)
    {
        for (int i = 1; i < schedule.Count; i++)
            At(schedule[i].AtMicros, schedule[i].Bps);
    }

    /// <summary>Capacity changes to <paramref name="bps"/> at <paramref name="atMicros"/> (added in time order).</summary>
    public LinkEmulator At(long atMicros, long bps)
    {
        _capacity.Add((atMicros, bps));
        return this;
    }

    public long CapacityAt(long micros)
    {
        long bps = _capacity[0].Bps;
        foreach (var (at, rate) in _capacity)
            if (at <= micros) bps = rate;
        return bps;
    }

    public LinkOutcome Send(long sendMicros, int sizeBytes)
    {
        Sent++;
        while (_inQueue.Count > 0 && _inQueue.Peek().DepartMicros <= sendMicros)
            _queuedBytes -= _inQueue.Dequeue().Size;

        long start = Math.Max(sendMicros, _linkFreeMicros);
        if ((QueueLimitMicros > 0 && start - sendMicros > QueueLimitMicros)
            || (QueueLimitBytes > 0 && _queuedBytes + sizeBytes > QueueLimitBytes))
        {
            QueueDrops++;
            return new LinkOutcome(false, 0, true);
        }
        // Serialise at the capacity in force when the packet reaches the head of the queue.
        long depart = start + Math.Max(1, sizeBytes * 8L * 1_000_000 / CapacityAt(start));
        _linkFreeMicros = depart;
        _inQueue.Enqueue((depart, sizeBytes));
        _queuedBytes += sizeBytes;

        if (Lost())
        {
            RandomDrops++;
            return new LinkOutcome(false, 0, false);
        }
        long arrival = depart + OneWayDelayMicros + (JitterMicros > 0 ? (long)(_rng.NextDouble() * JitterMicros) : 0);
        if (KeepOrder)
            arrival = Math.Max(arrival, _lastArrivalMicros);
        _lastArrivalMicros = Math.Max(_lastArrivalMicros, arrival);
        return new LinkOutcome(true, arrival, false);
    }

    private bool Lost()
    {
        if (GoodToBad > 0)
        {
            _badState = _badState ? _rng.NextDouble() >= BadToGood : _rng.NextDouble() < GoodToBad;
            if (_badState && _rng.NextDouble() < BadLoss)
                return true;
        }
        return RandomLoss > 0 && _rng.NextDouble() < RandomLoss;
    }
}
