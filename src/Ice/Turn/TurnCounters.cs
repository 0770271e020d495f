namespace Engine.Ice.Turn;

/// <summary>What a <see cref="TurnServer"/> holds and has relayed (single-threaded, like the server).</summary>
public sealed class TurnCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<TurnDropReason>().Length];

    public long Allocations { get; internal set; }
    public long AllocationsCreated { get; internal set; }
    public long Permissions { get; internal set; }
    public long Channels { get; internal set; }
    public long PacketsToPeer { get; internal set; }
    public long BytesToPeer { get; internal set; }
    public long PacketsToClient { get; internal set; }
    public long BytesToClient { get; internal set; }
    public long ErrorResponses { get; internal set; }

    public long this[TurnDropReason reason] => _drops[(int)reason];

    public long TotalDrops
    {
        get
        {
            long sum = 0;
            foreach (long d in _drops)
                sum += d;
            return sum;
        }
    }

    internal void Drop(TurnDropReason reason) => _drops[(int)reason]++;
}
