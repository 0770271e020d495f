using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Engine.Host.Transport;
using Engine.Ice;

namespace Engine.Host.Tests.Transport;

/// <summary>
/// Arrival times from the kernel (SO_TIMESTAMPNS through recvmmsg's control messages): a datagram
/// that waited in the socket while the media thread was busy keeps the time it arrived.
/// </summary>
public sealed class KernelTimestampTests
{
    private static (Socket Rx, Socket Tx) Pair()
    {
        var rx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        rx.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        rx.Blocking = false;
        var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        tx.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        tx.Connect(rx.LocalEndPoint!);
        return (rx, tx);
    }

    private static long UnixNanosNow() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    [Fact]
    public void EachDatagramCarriesTheTimeItReachedTheSocket()
    {
        var (rx, tx) = Pair();
        using var rxOwned = rx;
        using var txOwned = tx;
        using var batch = new UdpBatch(8, 2048);
        Assert.True(batch.EnableTimestamps(rx.SafeHandle));
        long sentAt = UnixNanosNow();
        for (int i = 0; i < 3; i++)
            tx.Send(new byte[] { 0x80, 96, 0, (byte)i });
        Thread.Sleep(60); // the reader is "busy"
        Assert.True(UdpBatch.WaitReadable(rx.SafeHandle, 1_000_000));
        int n = batch.Receive(rx.SafeHandle);
        long readAt = UnixNanosNow();
        Assert.Equal(3, n);
        long last = 0;
        for (int i = 0; i < n; i++)
        {
            Assert.True(batch.TryGetKernelTimestamp(i, out long stamp));
            Assert.InRange(stamp, sentAt - 1_000_000, readAt); // realtime: a ms of slack for the clocks' granularity
            Assert.True(readAt - stamp >= 50_000_000, $"stamp only {(readAt - stamp) / 1000} µs before the read"); // not the read time
            Assert.True(stamp >= last);
            last = stamp;
            Assert.Equal(i, batch.Datagram(i)[3]);
        }
    }

    [Fact]
    public void WithoutTimestampsNothingIsFound_AndReadingStampsAllocatesNothing()
    {
        var (rx, tx) = Pair();
        using var rxOwned = rx;
        using var txOwned = tx;
        using var plain = new UdpBatch(8, 2048);
        tx.Send(new byte[] { 1, 2, 3 });
        Assert.True(UdpBatch.WaitReadable(rx.SafeHandle, 1_000_000));
        Assert.Equal(1, plain.Receive(rx.SafeHandle));
        Assert.False(plain.TryGetKernelTimestamp(0, out _));

        using var stamped = new UdpBatch(8, 2048);
        Assert.True(stamped.EnableTimestamps(rx.SafeHandle));
        var payload = new byte[1200];
        long found = 0;
        for (int round = 0; round < 3; round++) // warm-up round first: tiering and the like are not per-call costs
        {
            for (int i = 0; i < 8; i++)
                tx.Send(payload);
            Assert.True(UdpBatch.WaitReadable(rx.SafeHandle, 1_000_000));
            Thread.Sleep(5);
            long before = GC.GetAllocatedBytesForCurrentThread();
            int n = stamped.Receive(rx.SafeHandle);
            for (int i = 0; i < n; i++)
                if (stamped.TryGetKernelTimestamp(i, out _))
                    found++;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (round > 0)
                Assert.Equal(0, allocated);
        }
        Assert.True(found >= 8);
    }

    /// <summary>Records now − arrival for each media datagram, once a STUN check chose its address.</summary>
    private sealed class ArrivalSession(string ufrag) : IMediaSession
    {
        public readonly List<long> Lags = [];
        public string LocalUfrag => ufrag;
        public NetAddress? SelectedRemote { get; private set; }
        public bool IsClosed => false;
        public long NextTimeoutMicros => long.MaxValue;

        public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros) => HandleDatagram(datagram, from, nowMicros, nowMicros);

        public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros, long arrivalMicros)
        {
            if (datagram[0] <= 3)
                SelectedRemote = from;
            else
                lock (Lags)
                    Lags.Add(nowMicros - arrivalMicros);
        }

        public void HandleTimeout(long nowMicros) { }
        public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to) { length = 0; to = default; return false; }
        public void OnRemoved() { }
    }

    private static byte[] Stun(string username)
    {
        var user = Encoding.ASCII.GetBytes(username);
        int padded = (user.Length + 3) & ~3;
        var m = new byte[20 + 4 + padded];
        BinaryPrimitives.WriteUInt16BigEndian(m, 0x0001);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)(4 + padded));
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), 0x2112A442);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(20), 0x0006);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(22), (ushort)user.Length);
        user.CopyTo(m, 24);
        return m;
    }

    [Fact]
    public void TheMediaLoopHandsSessionsTheArrivalNotTheTimeItGotToThem()
    {
        using var loop = new MediaLoop(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        loop.Start();
        var s = new ArrivalSession("ufragK");
        loop.Add(s);
        client.SendTo(Stun("ufragK:x"), loop.LocalEndPoint);
        for (int i = 0; i < 300 && s.SelectedRemote == null; i++)
            Thread.Sleep(10);
        Assert.NotNull(s.SelectedRemote);

        // The loop thread is busy for 80 ms; the datagram sent meanwhile waits in the socket.
        using var busy = new ManualResetEventSlim();
        loop.Post(() => { busy.Set(); Thread.Sleep(80); });
        Assert.True(busy.Wait(3000));
        client.SendTo(new byte[] { 0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9 }, loop.LocalEndPoint);
        for (int i = 0; i < 300 && s.Lags.Count == 0; i++)
            Thread.Sleep(10);
        lock (s.Lags)
        {
            Assert.Single(s.Lags);
            Assert.True(s.Lags[0] >= 40_000, $"arrival only {s.Lags[0]} µs before it was handled"); // the busy time, not ~0
        }
        Assert.True(loop.Counters.KernelTimestamps >= 1);
    }
}
