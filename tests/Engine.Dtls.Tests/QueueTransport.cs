using System.Collections.Concurrent;
using Org.BouncyCastle.Crypto.Tls;

namespace Engine.Dtls.Tests;

/// <summary>In-memory datagram pipe between a blocking BouncyCastle DTLS thread and our sans-IO endpoint.</summary>
public sealed class QueueTransport : DatagramTransport
{
    public BlockingCollection<byte[]> ToBouncy { get; } = new();
    public ConcurrentQueue<byte[]> FromBouncy { get; } = new();
    public int Mtu { get; init; } = 1200;

    public int GetReceiveLimit() => 16384 + 2048;
    public int GetSendLimit() => Mtu;

    public int Receive(byte[] buf, int off, int len, int waitMillis)
    {
        if (!ToBouncy.TryTake(out byte[]? d, waitMillis)) return -1;
        int n = Math.Min(len, d.Length);
        Array.Copy(d, 0, buf, off, n);
        return n;
    }

    public void Send(byte[] buf, int off, int len) => FromBouncy.Enqueue(buf.AsSpan(off, len).ToArray());

    public void Close() { }
}
