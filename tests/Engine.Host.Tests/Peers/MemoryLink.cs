using Engine.Ice;

namespace Engine.Host.Tests.Peers;

/// <summary>
/// An in-memory network between endpoints on a fake clock: every datagram is delayed (fixed plus
/// seeded jitter, which reorders), and seeded loss and duplication apply to the datagrams
/// <see cref="Impair"/> selects. Deterministic for a seed; no threads, no sleeps.
/// </summary>
public sealed class MemoryLink
{
    public readonly record struct Datagram(NetAddress From, NetAddress To, byte[] Data, long DeliverMicros, long Order);

    private readonly Random _random;
    private readonly PriorityQueue<Datagram, (long, long)> _inFlight = new();
    private long _order;

    public MemoryLink(int seed) => _random = new Random(seed);

    /// <summary>Probability a selected datagram is lost.</summary>
    public double Loss { get; set; }
    /// <summary>Probability a selected datagram arrives twice.</summary>
    public double Duplication { get; set; }
    /// <summary>One-way delay.</summary>
    public long DelayMicros { get; set; }
    /// <summary>Extra delay drawn uniformly from [0, this) per datagram: later datagrams may overtake.</summary>
    public long JitterMicros { get; set; }
    /// <summary>Which datagrams loss and duplication apply to (all when null).</summary>
    public Func<Datagram, bool>? Impair { get; set; }
    /// <summary>Seen by the sender side; return false to drop (for targeted losses).</summary>
    public Func<Datagram, bool>? Filter { get; set; }

    /// <summary>Bottleneck rate for the datagrams <see cref="Bottlenecked"/> selects; 0: none.</summary>
    public long RateBps { get; set; }
    /// <summary>The bottleneck's queue, in time at <see cref="RateBps"/>; a datagram that would wait longer is tail-dropped.</summary>
    public long QueueMicros { get; set; } = 300_000;
    /// <summary>Which datagrams pass the bottleneck (all when null).</summary>
    public Func<Datagram, bool>? Bottlenecked { get; set; }
    /// <summary>Datagrams the full bottleneck queue dropped.</summary>
    public long QueueDropped { get; private set; }

    public long Sent { get; private set; }
    public long Dropped { get; private set; }
    public long Duplicated { get; private set; }
    public long Reordered { get; private set; }
    public List<Datagram> DroppedDatagrams { get; } = [];

    public int InFlight => _inFlight.Count;

    public long NextDeliveryMicros => _inFlight.TryPeek(out var d, out _) ? d.DeliverMicros : long.MaxValue;

    public void Send(in NetAddress from, in NetAddress to, ReadOnlySpan<byte> data, long nowMicros)
    {
        Sent++;
        var d = new Datagram(from, to, data.ToArray(), 0, 0);
        if (Filter != null && !Filter(d))
        {
            Dropped++;
            return;
        }
        if (RateBps > 0 && (Bottlenecked == null || Bottlenecked(d)))
        {
            // A FIFO drained at RateBps: the datagram leaves the queue when everything before it has.
            long start = Math.Max(nowMicros, _bottleneckFreeMicros);
            if (start - nowMicros > QueueMicros)
            {
                QueueDropped++;
                Dropped++;
                return;
            }
            _bottleneckFreeMicros = start + data.Length * 8_000_000L / RateBps;
            nowMicros = _bottleneckFreeMicros;
        }
        bool impair = Impair == null || Impair(d);
        if (impair && Loss > 0 && _random.NextDouble() < Loss)
        {
            Dropped++;
            DroppedDatagrams.Add(d);
            return;
        }
        Schedule(d, nowMicros);
        if (impair && Duplication > 0 && _random.NextDouble() < Duplication)
        {
            Duplicated++;
            Schedule(d, nowMicros);
        }
    }

    private void Schedule(Datagram d, long nowMicros)
    {
        long jitter = JitterMicros > 0 ? (long)(_random.NextDouble() * JitterMicros) : 0;
        long at = nowMicros + DelayMicros + jitter;
        if (_inFlight.Count > 0 && at < _lastScheduledMicros)
            Reordered++;
        _lastScheduledMicros = Math.Max(_lastScheduledMicros, at);
        long order = _order++;
        _inFlight.Enqueue(d with { DeliverMicros = at, Order = order }, (at, order));
    }

    private long _lastScheduledMicros = long.MinValue;
    private long _bottleneckFreeMicros = long.MinValue;

    /// <summary>The next datagram due at or before <paramref name="nowMicros"/>.</summary>
    public bool TryReceive(long nowMicros, out Datagram datagram)
    {
        if (_inFlight.TryPeek(out datagram, out _) && datagram.DeliverMicros <= nowMicros)
        {
            _inFlight.Dequeue();
            return true;
        }
        datagram = default;
        return false;
    }
}
