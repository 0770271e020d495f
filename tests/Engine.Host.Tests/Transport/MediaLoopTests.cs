using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Engine.Host.Transport;
using Engine.Ice;

namespace Engine.Host.Tests.Transport;

public sealed class MediaLoopTests : IDisposable
{
    private readonly MediaLoop _loop = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly Socket _client = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public MediaLoopTests()
    {
        _client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _client.ReceiveTimeout = 3000;
        _loop.Start();
    }

    public void Dispose()
    {
        _loop.Dispose();
        _client.Dispose();
    }

    /// <summary>A session that takes the address of a STUN check, echoes other datagrams, and can throw or tick.</summary>
    private sealed class EchoSession(string ufrag) : IMediaSession
    {
        private readonly Queue<(byte[] Data, NetAddress To)> _out = new();
        public string LocalUfrag => ufrag;
        public NetAddress? SelectedRemote { get; private set; }
        public bool IsClosed { get; set; }
        public long NextTimeoutMicros { get; set; } = long.MaxValue;
        public bool Throw { get; set; }
        public int Removed;
        public int Timeouts;

        public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros)
        {
            if (Throw)
                throw new InvalidOperationException("planted bug");
            if (datagram[0] <= 3)
                SelectedRemote = from;
            _out.Enqueue((datagram.ToArray(), from));
        }

        public void HandleTimeout(long nowMicros)
        {
            Timeouts++;
            NextTimeoutMicros = long.MaxValue;
            if (SelectedRemote is { } to)
                _out.Enqueue((Tick, to));
        }

        public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to)
        {
            length = 0;
            to = default;
            if (!_out.TryDequeue(out var d))
                return false;
            d.Data.CopyTo(destination);
            (length, to) = (d.Data.Length, d.To);
            return true;
        }

        public void OnRemoved() => Interlocked.Increment(ref Removed);
    }

    /// <summary>A minimal STUN binding request with a USERNAME attribute (RFC 8489 §5, §14.3).</summary>
    private static byte[] Stun(string username)
    {
        var user = Encoding.ASCII.GetBytes(username);
        int padded = (user.Length + 3) & ~3;
        var m = new byte[20 + 4 + padded];
        BinaryPrimitives.WriteUInt16BigEndian(m, 0x0001);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), (ushort)(4 + padded));
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), 0x2112A442);
        Random.Shared.NextBytes(m.AsSpan(8, 12));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(20), 0x0006);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(22), (ushort)user.Length);
        user.CopyTo(m, 24);
        return m;
    }

    private static readonly byte[] Tick = { 0x80, 0x60, (byte)'t', (byte)'i', (byte)'c', (byte)'k', 0, 0, 0, 0, 0, 0 };
    private static readonly byte[] Rtp = { 0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3 };

    private void Send(byte[] d) => _client.SendTo(d, _loop.LocalEndPoint);

    private byte[]? Receive()
    {
        var buf = new byte[2048];
        try
        {
            int n = _client.Receive(buf);
            return buf[..n];
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static void WaitFor(Func<bool> condition)
    {
        for (int i = 0; i < 300 && !condition(); i++)
            Thread.Sleep(10);
        Assert.True(condition());
    }

    [Fact]
    public void StunIsRoutedByUfragAndMediaByTheAddressItSelected()
    {
        var s = new EchoSession("ufragA");
        _loop.Add(s);
        WaitFor(() => _loop.SessionCount == 1);

        Send(Rtp); // before any check: unknown address
        WaitFor(() => _loop.Counters.DroppedUnknownAddress == 1);

        var check = Stun("ufragA:remote");
        Send(check);
        Assert.Equal(check, Receive());
        Send(Rtp);
        Assert.Equal(Rtp, Receive());

        Send(Stun("nobody:remote"));
        WaitFor(() => _loop.Counters.DroppedUnknownUfrag == 1);
        Send(new byte[] { 0xFF, 1, 2, 3 });
        WaitFor(() => _loop.Counters.DroppedUnknownKind == 1);
    }

    [Fact]
    public void AnIdleLoopSleepsAndACommandFromAnotherThreadWakesIt()
    {
        // Settle: the constructor's start and anything queued before it.
        var first = new ManualResetEventSlim();
        _loop.Post(first.Set);
        Assert.True(first.Wait(5000));
        Thread.Sleep(50);
        long before = Volatile.Read(ref _loop.Counters.Wakeups);
        Thread.Sleep(600);
        long idle = Volatile.Read(ref _loop.Counters.Wakeups) - before;
        // It used to wake every 5 ms to look at its queue: about 120 times here.
        Assert.True(idle <= 2, $"an idle loop woke {idle} times in 600 ms");

        long signals = Volatile.Read(ref _loop.Counters.WakeSignals);
        var ran = new ManualResetEventSlim();
        _loop.Post(ran.Set);
        Assert.True(ran.Wait(5000));
        Assert.True(Volatile.Read(ref _loop.Counters.WakeSignals) > signals, "the post ran without the eventfd waking the loop");
    }

    [Fact]
    public void TimersFireOnTheLoop()
    {
        var s = new EchoSession("ufragT");
        _loop.Add(s);
        Send(Stun("ufragT:x"));
        Assert.NotNull(Receive());
        s.NextTimeoutMicros = MediaLoop.NowMicros() + 20_000; // read by the loop after the next input
        Send(Rtp);
        Assert.Equal(Rtp, Receive());
        var tick = Receive();
        Assert.Equal(Tick, tick);
        Assert.Equal(1, s.Timeouts);
    }

    [Fact]
    public void AFaultySessionIsRemovedAndTheOthersCarryOn()
    {
        var bad = new EchoSession("bad");
        var good = new EchoSession("good");
        _loop.Add(bad);
        _loop.Add(good);
        bad.Throw = true;
        Send(Stun("bad:x"));
        WaitFor(() => _loop.Counters.SessionFaults == 1);
        WaitFor(() => bad.Removed == 1);
        Send(Stun("good:x"));
        Assert.NotNull(Receive());
        Assert.Equal(1, _loop.SessionCount);
    }

    /// <summary>Echoes into one preallocated slot: a session that allocates nothing itself.</summary>
    private sealed class QuietEcho(string ufrag) : IMediaSession
    {
        private readonly byte[] _slot = new byte[2048];
        private int _length;
        private NetAddress _to;
        public string LocalUfrag => ufrag;
        public NetAddress? SelectedRemote { get; private set; }
        public bool IsClosed => false;
        public long NextTimeoutMicros => long.MaxValue;

        public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros)
        {
            if (datagram[0] <= 3)
                SelectedRemote = from;
            datagram.CopyTo(_slot);
            (_length, _to) = (datagram.Length, from);
        }

        public void HandleTimeout(long nowMicros) { }

        public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to)
        {
            (length, to) = (_length, _to);
            if (_length == 0)
                return false;
            _slot.AsSpan(0, _length).CopyTo(destination);
            _length = 0;
            return true;
        }

        public void OnRemoved() { }
    }

    [Fact]
    public void ReceivingRoutingAndSendingAllocateNothingPerDatagram()
    {
        _loop.Add(new QuietEcho("quiet"));
        Send(Stun("quiet:x"));
        Assert.NotNull(Receive());
        for (int i = 0; i < 200; i++) { Send(Rtp); Receive(); } // warm-up: JIT, socket paths
        long before = _loop.AllocatedBytes;
        for (int i = 0; i < 3000; i++)
        {
            Send(Rtp);
            Assert.Equal(Rtp.Length, Receive()!.Length);
        }
        Send(Rtp);
        Receive();
        WaitFor(() => _loop.AllocatedBytes != before || _loop.Counters.DatagramsReceived >= 3202);
        Thread.Sleep(20); // one more wake-up publishes the figure
        Assert.Equal(before, _loop.AllocatedBytes);
    }

    [Fact]
    public void TwoHundredSessionsComeAndGoWithoutLeftovers()
    {
        var sessions = Enumerable.Range(0, 200).Select(i => new EchoSession("u" + i)).ToList();
        foreach (var s in sessions) _loop.Add(s);
        WaitFor(() => _loop.SessionCount == 200);
        foreach (var s in sessions.Take(100)) _loop.Remove(s);
        foreach (var s in sessions.Skip(100)) s.IsClosed = true;
        // Closed sessions leave on their next input.
        foreach (var s in sessions.Skip(100)) Send(Stun(s.LocalUfrag + ":x"));
        WaitFor(() => _loop.SessionCount == 0);
        Assert.All(sessions, s => Assert.Equal(1, s.Removed));
    }

    /// <summary>Holds its first datagram until released, so the rest queue up in the socket; echoes each, plus an extra to a refused address.</summary>
    private sealed class GateSession(string ufrag) : IMediaSession
    {
        private readonly Queue<(byte[] Data, NetAddress To)> _out = new();
        public readonly ManualResetEventSlim Entered = new(), Release = new();
        public int Handled;
        public bool SendToPortZero;
        public string LocalUfrag => ufrag;
        public NetAddress? SelectedRemote { get; private set; }
        public bool IsClosed => false;
        public long NextTimeoutMicros { get; set; } = long.MaxValue;

        public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros)
        {
            if (Handled++ == 0)
            {
                Entered.Set();
                Release.Wait(TimeSpan.FromSeconds(5));
            }
            if (datagram[0] <= 3)
                SelectedRemote = from;
            if (SendToPortZero)
                _out.Enqueue((datagram.ToArray(), from.WithPort(0))); // Linux refuses UDP to port 0 (EINVAL)
            _out.Enqueue((datagram.ToArray(), from));
        }

        public void HandleTimeout(long nowMicros) { }

        public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to)
        {
            (length, to) = (0, default);
            if (!_out.TryDequeue(out var d))
                return false;
            d.Data.CopyTo(destination);
            (length, to) = (d.Data.Length, d.To);
            return true;
        }

        public void OnRemoved() { }
    }

    [Fact]
    public void WaitingDatagramsAreReadAndAnsweredInBatches()
    {
        var s = new GateSession("gate");
        _loop.Add(s);
        Send(Stun("gate:x"));
        Assert.True(s.Entered.Wait(3000));
        for (int i = 0; i < 199; i++) Send(Rtp);
        long receiveCalls = _loop.Counters.ReceiveCalls, sendCalls = _loop.Counters.SendCalls;
        s.Release.Set();
        for (int i = 0; i < 200; i++) Assert.NotNull(Receive());
        WaitFor(() => _loop.Counters.DatagramsSent == 200);
        // 199 waiting datagrams are 4 recvmmsg calls of 64 (the echo of the held STUN check is one batch more).
        Assert.InRange(_loop.Counters.ReceiveCalls - receiveCalls, 1, 6);
        Assert.InRange(_loop.Counters.SendCalls - sendCalls, 1, 6);
        Assert.Equal(200, s.Handled);
    }

    [Fact]
    public void MediaRightBehindTheCheckInOneBatchIsRouted()
    {
        // The gate holds the loop inside the check, so the check and the RTP behind it are read together.
        var s = new GateSession("route");
        _loop.Add(s);
        Send(Stun("route:x"));
        Assert.True(s.Entered.Wait(3000));
        for (int i = 0; i < 5; i++) Send(Rtp);
        Thread.Sleep(50); // let the datagrams reach the socket before the loop reads again
        s.Release.Set();
        for (int i = 0; i < 6; i++) Assert.NotNull(Receive());
        Assert.Equal(0, _loop.Counters.DroppedUnknownAddress);
    }

    [Fact]
    public void ASendTheKernelRefusesIsCountedAndTheRestOfTheBatchLeaves()
    {
        var s = new GateSession("refused") { SendToPortZero = true };
        s.Release.Set();
        int loopExceptions = 0;
        EventHandler<System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs> onThrow = (_, _) =>
        {
            if (Thread.CurrentThread.Name == "media-loop") Interlocked.Increment(ref loopExceptions);
        };
        AppDomain.CurrentDomain.FirstChanceException += onThrow;
        _loop.Add(s);
        Send(Stun("refused:x"));
        for (int i = 0; i < 10; i++) Send(Rtp);
        for (int i = 0; i < 11; i++) Assert.NotNull(Receive());
        WaitFor(() => _loop.Counters.SendErrors == 11);
        Assert.Equal(11, _loop.Counters.DatagramsSent);
        AppDomain.CurrentDomain.FirstChanceException -= onThrow;
        Assert.Equal(0, _loop.Counters.SessionFaults);
        Assert.Equal(1, _loop.SessionCount);
        Assert.Equal(0, loopExceptions); // a refused send is a return code, not a SocketException
    }

    [Fact]
    public void AFloodIntoOneSessionKeepsOneTimerEntry()
    {
        // The old loop queued a heap entry per routed datagram: a STUN flood with a known ufrag (and a
        // wrong password) grew memory without bound. Now each session has one entry, moved in place.
        var s = new GateSession("flood") { NextTimeoutMicros = MediaLoop.NowMicros() + 60_000_000 };
        s.Release.Set();
        _loop.Add(s);
        for (int i = 0; i < 5000; i++)
        {
            Send(Stun("flood:x"));
            if (i % 100 == 99) WaitFor(() => s.Handled > i - 50); // stay under the socket's buffer
        }
        WaitFor(() => s.Handled >= 4900);
        Thread.Sleep(20); // one more wake-up publishes the figure
        Assert.Equal(1, _loop.TimerEntries);
    }
}
