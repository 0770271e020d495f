namespace Engine.Host.Turn;

/// <summary>The TURN host's own drops, written from the TURN thread and the connection tasks (atomic).</summary>
public sealed class TurnHostCounters
{
    private readonly long[] _drops = new long[Enum.GetValues<TurnHostDrop>().Length];

    public long this[TurnHostDrop reason] => Interlocked.Read(ref _drops[(int)reason]);

    public void Increment(TurnHostDrop reason) => Interlocked.Increment(ref _drops[(int)reason]);

    public void Add(TurnHostDrop reason, long count) => Interlocked.Add(ref _drops[(int)reason], count);

    /// <summary>Bytes copied by RFC 6062 splices, client data connection to peer and back.</summary>
    public long TcpBytesToPeer => Interlocked.Read(ref _tcpBytesToPeer);
    public long TcpBytesToClient => Interlocked.Read(ref _tcpBytesToClient);
    private long _tcpBytesToPeer, _tcpBytesToClient;

    public void AddTcpBytes(bool toPeer, long count) => Interlocked.Add(ref toPeer ? ref _tcpBytesToPeer : ref _tcpBytesToClient, count);

    internal void CopyTo(TurnStats stats)
    {
        for (int i = 0; i < _drops.Length; i++)
            stats.HostDrops[i] = Interlocked.Read(ref _drops[i]);
        stats.TcpBytesToPeer = TcpBytesToPeer;
        stats.TcpBytesToClient = TcpBytesToClient;
    }
}
