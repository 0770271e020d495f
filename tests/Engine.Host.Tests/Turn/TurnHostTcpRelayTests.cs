using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Engine.Host.Config;
using Engine.Host.Turn;
using Engine.Ice;
using Engine.Ice.Turn;
using Xunit.Abstractions;

namespace Engine.Host.Tests.Turn;

/// <summary>RFC 6062 TCP allocations through the TURN host on loopback with real sockets: Connect, ConnectionAttempt, ConnectionBind and the splice.</summary>
public sealed class TurnHostTcpRelayTests : IDisposable
{
    private const string Realm = "host.test";
    private readonly List<IDisposable> _owned = new();

    private (TurnHost Host, TurnConfig Config) NewHost(int maxAllocateTimeoutSeconds = 60)
    {
        int min = 30000 + Random.Shared.Next(100) * 200;
        var config = new TurnConfig
        {
            ListeningPort = FreeTcpPort(), MinPort = min, MaxPort = min + 199, Realm = Realm, NoTls = true,
            MaxAllocateTimeoutSeconds = maxAllocateTimeoutSeconds,
        };
        config.ListeningIps.Add(IPAddress.Loopback);
        config.RelayIps.Add(IPAddress.Loopback);
        config.Users["alice"] = "alice-pass";
        config.AllowedPeers.Add(TurnIpRange.Parse("127.0.0.1"));
        var host = new TurnHost(config);
        _owned.Add(host);
        host.Start();
        return (host, config);
    }

    private static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    internal Socket Tcp(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000, SendTimeout = 5000 };
        _owned.Add(s);
        s.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return s;
    }

    private delegate void Attributes(ref StunMessageWriter w);

    /// <summary>A long-term-credential client over one TCP connection; messages are read one by one off the stream.</summary>
    private sealed class Client(Socket socket)
    {
        private byte[] _nonce = Array.Empty<byte>();
        public Socket Socket => socket;

        public byte[] Request(StunMethod method, Attributes? add = null)
        {
            var response = Once(method, add);
            if (ErrorCode(response) is 401 or 438)
                response = Once(method, add);
            return response;
        }

        private byte[] Once(StunMethod method, Attributes? add)
        {
            var buffer = new byte[1024];
            var w = new StunMessageWriter(buffer, method, StunClass.Request, RandomNumberGenerator.GetBytes(12));
            add?.Invoke(ref w);
            if (_nonce.Length > 0)
            {
                var key = new byte[16];
                StunLongTermCredential.TryComputeKey("alice", Realm, "alice-pass", key);
                w.AddText(StunAttributeType.Username, "alice");
                w.AddText(StunAttributeType.Realm, Realm);
                w.AddAttribute(StunAttributeType.Nonce, _nonce);
                w.AddMessageIntegrity(key);
            }
            w.AddFingerprint();
            socket.Send(buffer.AsSpan(0, w.Length));
            var response = ReadMessage();
            Assert.True(StunMessageView.TryRead(response, out var m));
            Assert.Equal(method, m.Method);
            if (m.TryGetNonce(out var nonce))
                _nonce = nonce.ToArray();
            return response;
        }

        public byte[] ReadMessage()
        {
            var header = ReadExactly(socket, 20);
            var body = ReadExactly(socket, BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)));
            return header.Concat(body).ToArray();
        }

        public NetAddress AllocateTcp()
        {
            var response = Request(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(6));
            Assert.Equal(0, ErrorCode(response));
            Assert.True(StunMessageView.TryRead(response, out var m));
            Assert.True(m.TryGetXorRelayedAddress(out var relay));
            return relay;
        }

        public void Permit(NetAddress peer) =>
            Assert.Equal(0, ErrorCode(Request(StunMethod.CreatePermission, (ref StunMessageWriter w) => w.AddXorPeerAddress(peer))));

        public byte[] Bind(uint id) => Request(StunMethod.ConnectionBind, (ref StunMessageWriter w) =>
        {
            Span<byte> v = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v, id);
            w.AddAttribute(StunAttributeType.ConnectionId, v);
        });
    }

    private static byte[] ReadExactly(Socket socket, int length)
    {
        var bytes = new byte[length];
        for (int got = 0; got < length;)
        {
            int n = socket.Receive(bytes, got, length - got, SocketFlags.None);
            Assert.True(n > 0, "the connection closed");
            got += n;
        }
        return bytes;
    }

    private static int ErrorCode(byte[] response)
    {
        Assert.True(StunMessageView.TryRead(response, out var m));
        if (m.Class is StunClass.SuccessResponse or StunClass.Indication)
            return 0;
        Assert.True(m.TryGetErrorCode(out int code, out _));
        return code;
    }

    private static uint ConnectionId(byte[] message)
    {
        Assert.True(StunMessageView.TryRead(message, out var m));
        Assert.True(m.TryGetAttribute(StunAttributeType.ConnectionId, out var v) && v.Length == 4);
        return BinaryPrimitives.ReadUInt32BigEndian(v);
    }

    private static void AssertClosedByServer(Socket tcp)
    {
        var buffer = new byte[512];
        for (int i = 0; i < 100; i++)
        {
            try
            {
                if (tcp.Receive(buffer) == 0)
                    return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                return;
            }
        }
        Assert.Fail("the connection stayed open");
    }

    private static void WaitFor(Func<bool> done, string what)
    {
        for (int i = 0; i < 200 && !done(); i++)
            Thread.Sleep(50);
        Assert.True(done(), what);
    }

    /// <summary>Sends <paramref name="count"/> patterned bytes on one socket and checks they arrive whole and in order on the other.</summary>
    private static void Pipe(Socket from, Socket to, int count, byte seed)
    {
        var data = new byte[count];
        for (int i = 0; i < count; i++)
            data[i] = (byte)(i * 7 + seed);
        var send = Task.Run(() =>
        {
            for (int sent = 0; sent < count;)
                sent += from.Send(data, sent, Math.Min(8192, count - sent), SocketFlags.None);
        });
        var got = ReadExactly(to, count);
        Assert.True(send.Wait(10_000));
        Assert.Equal(data, got);
    }

    [Fact]
    public void Connect_ThenConnectionBind_SplicesBytesBothWays_AndClosesPropagate()
    {
        var (host, config) = NewHost();
        using var peerListener = new TcpListener(IPAddress.Loopback, 0);
        peerListener.Start();
        var peerAddress = NetAddress.FromIPEndPoint((IPEndPoint)peerListener.LocalEndpoint);

        var control = new Client(Tcp(config.ListeningPort));
        var relay = control.AllocateTcp();
        Assert.InRange(relay.Port, config.MinPort, config.MaxPort);
        // Without a permission: 403, no connection is tried.
        Assert.Equal(403, ErrorCode(control.Request(StunMethod.Connect, (ref StunMessageWriter w) => w.AddXorPeerAddress(peerAddress))));
        control.Permit(peerAddress);
        var connect = control.Request(StunMethod.Connect, (ref StunMessageWriter w) => w.AddXorPeerAddress(peerAddress));
        Assert.Equal(0, ErrorCode(connect));
        uint id = ConnectionId(connect);
        using var peer = peerListener.AcceptSocket();
        peer.ReceiveTimeout = 5000;
        // From the relayed transport address (RFC 6062 §5.2).
        Assert.Equal(relay.ToIPEndPoint(), peer.RemoteEndPoint);

        // The peer may talk before the bind: its bytes wait in the kernel and arrive after the bind.
        peer.Send(new byte[] { 1, 2, 3 });
        var data = new Client(Tcp(config.ListeningPort));
        Assert.Equal(0, ErrorCode(data.Bind(id)));
        Assert.Equal(new byte[] { 1, 2, 3 }, ReadExactly(data.Socket, 3));
        Pipe(data.Socket, peer, 300_000, 1);
        Pipe(peer, data.Socket, 300_000, 2);

        // Counters are published every 100 ms.
        WaitFor(() => host.Snapshot() is { TcpBinds: 1, TcpConnectsSucceeded: 1, TcpConnections: 1 }, "the bind to be counted");
        WaitFor(() => host.Snapshot().TcpBytesToPeer == 300_000 && host.Snapshot().TcpBytesToClient == 300_003, "the splice's byte counters");

        // The peer closes its side: the data connection sees the end, and may still send.
        peer.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, data.Socket.Receive(new byte[16]));
        data.Socket.Send(new byte[] { 9 });
        Assert.Equal(new byte[] { 9 }, ReadExactly(peer, 1));
        data.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, peer.Receive(new byte[16]));
        WaitFor(() => host.Snapshot().TcpConnections == 0, "the peer connection to be forgotten");
        Assert.Equal(1, host.Snapshot().Allocations); // the control connection's allocation stands
    }

    [Fact]
    public void InboundPeer_WithPermissionIsAnnounced_AndBound_WithoutIsClosed()
    {
        var (host, config) = NewHost();
        var control = new Client(Tcp(config.ListeningPort));
        var relay = control.AllocateTcp();

        // No permission yet: the server closes the peer's connection.
        var stranger = Tcp(relay.Port);
        AssertClosedByServer(stranger);
        WaitFor(() => host.Snapshot().CoreDrops[(int)TurnDropReason.NoPermission] >= 1, "the refused peer to be counted");

        control.Permit(NetAddress.FromIPv4(0x7F000001, 1));
        var peer = Tcp(relay.Port);
        var attempt = control.ReadMessage();
        Assert.True(StunMessageView.TryRead(attempt, out var m));
        Assert.Equal(StunMethod.ConnectionAttempt, m.Method);
        Assert.Equal(StunClass.Indication, m.Class);
        Assert.True(m.TryGetXorPeerAddress(out var from));
        Assert.Equal(NetAddress.FromIPEndPoint((IPEndPoint)peer.LocalEndPoint!), from);
        uint id = ConnectionId(attempt);

        var data = new Client(Tcp(config.ListeningPort));
        Assert.Equal(400, ErrorCode(data.Bind(id ^ 1))); // unknown id: refused, the connection still frames STUN
        Assert.Equal(0, ErrorCode(data.Bind(id)));
        Pipe(peer, data.Socket, 100_000, 3);
        Pipe(data.Socket, peer, 100_000, 4);
        WaitFor(() => host.Snapshot().TcpConnectionAttempts == 1, "the attempt to be counted");

        // The control connection closing ends the allocation, its peer connection and the data connection.
        control.Socket.Close();
        AssertClosedByServer(peer);
        AssertClosedByServer(data.Socket);
        WaitFor(() => host.Snapshot().Allocations == 0 && host.Snapshot().TcpConnections == 0, "everything to end with the control connection");
    }

    [Fact]
    public void ConnectToAClosedPortIs447()
    {
        var (host, config) = NewHost();
        int closedPort = FreeTcpPort();
        var control = new Client(Tcp(config.ListeningPort));
        control.AllocateTcp();
        var peer = NetAddress.FromIPv4(0x7F000001, (ushort)closedPort);
        control.Permit(peer);
        Assert.Equal(447, ErrorCode(control.Request(StunMethod.Connect, (ref StunMessageWriter w) => w.AddXorPeerAddress(peer))));
        WaitFor(() => host.Snapshot().TcpConnectsFailed == 1, "the failed connect to be counted");
    }

    [Fact]
    public void SplicedDataConnection_IsNotClosedAsIdle()
    {
        // max-allocate-timeout 1 s: a TCP connection without an allocation is closed within about 1.25 s;
        // a bound data connection has none of its own and must stay.
        var (host, config) = NewHost(maxAllocateTimeoutSeconds: 1);
        using var peerListener = new TcpListener(IPAddress.Loopback, 0);
        peerListener.Start();
        var peerAddress = NetAddress.FromIPEndPoint((IPEndPoint)peerListener.LocalEndpoint);
        var control = new Client(Tcp(config.ListeningPort));
        control.AllocateTcp();
        control.Permit(peerAddress);
        var connect = control.Request(StunMethod.Connect, (ref StunMessageWriter w) => w.AddXorPeerAddress(peerAddress));
        uint id = ConnectionId(connect);
        using var peer = peerListener.AcceptSocket();
        peer.ReceiveTimeout = 5000;
        var data = new Client(Tcp(config.ListeningPort));
        Assert.Equal(0, ErrorCode(data.Bind(id)));

        Thread.Sleep(3000);
        Pipe(data.Socket, peer, 1000, 5);
        Pipe(peer, data.Socket, 1000, 6);
        Assert.Equal(0, host.HostCounters[TurnHostDrop.IdleTimeout]);
    }

    public void Dispose()
    {
        foreach (var d in _owned)
            d.Dispose();
    }

    /// <summary>A spliced pair (data connection, peer) ready for raw bytes.</summary>
    internal static (Socket Data, Socket Peer) Spliced(TurnHostTcpRelayTests t, TurnConfig config)
    {
        var peerListener = new TcpListener(IPAddress.Loopback, 0);
        peerListener.Start();
        try
        {
            var peerAddress = NetAddress.FromIPEndPoint((IPEndPoint)peerListener.LocalEndpoint);
            var control = new Client(t.Tcp(config.ListeningPort));
            control.AllocateTcp();
            control.Permit(peerAddress);
            uint id = ConnectionId(control.Request(StunMethod.Connect, (ref StunMessageWriter w) => w.AddXorPeerAddress(peerAddress)));
            var peer = peerListener.AcceptSocket();
            t._owned.Add(peer);
            peer.ReceiveTimeout = peer.SendTimeout = 10_000;
            var data = new Client(t.Tcp(config.ListeningPort));
            Assert.Equal(0, ErrorCode(data.Bind(id)));
            return (data.Socket, peer);
        }
        finally
        {
            peerListener.Stop();
        }
    }

    internal (TurnHost Host, TurnConfig Config) Host() => NewHost();

    internal static void Copy(Socket from, Socket to, byte[] send, byte[] receive, long total)
    {
        // Both ends on threads of their own, buffers made before: the test itself allocates nothing while it runs.
        var sender = new Thread(() =>
        {
            for (long sent = 0; sent < total;)
                sent += from.Send(send, 0, (int)Math.Min(send.Length, total - sent), SocketFlags.None);
        });
        sender.Start();
        for (long got = 0; got < total;)
        {
            int n = to.Receive(receive, 0, (int)Math.Min(receive.Length, total - got), SocketFlags.None);
            Assert.True(n > 0, "the splice closed");
            got += n;
        }
        Assert.True(sender.Join(30_000));
    }
}

/// <summary>
/// What the splice allocates per byte, measured over the whole process (its copying runs on the thread
/// pool, not one thread), alone so that no other test's allocations count.
/// </summary>
[Collection("alone")]
public sealed class TurnHostTcpSpliceAllocationTests : IDisposable
{
    private readonly TurnHostTcpRelayTests _t = new();
    private readonly ITestOutputHelper _output;

    public TurnHostTcpSpliceAllocationTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void SplicingMegabytesAllocatesAlmostNothing()
    {
        var (_, config) = _t.Host();
        var (data, peer) = TurnHostTcpRelayTests.Spliced(_t, config);
        var send = new byte[64 * 1024];
        var receive = new byte[64 * 1024];
        // Warm-up: the socket operations' cached state, the thread pool, the JIT.
        TurnHostTcpRelayTests.Copy(data, peer, send, receive, 2 << 20);
        TurnHostTcpRelayTests.Copy(peer, data, send, receive, 2 << 20);
        const long total = 32L << 20;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        TurnHostTcpRelayTests.Copy(data, peer, send, receive, total);
        TurnHostTcpRelayTests.Copy(peer, data, send, receive, total);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        _output.WriteLine($"{allocated} bytes allocated in the process while splicing {2 * total} bytes");
        // 2 x 32 MiB through 16 KiB buffers is 4,096 reads and writes: well under 64 bytes each on average
        // (the two test threads themselves cost a few hundred bytes).
        Assert.True(allocated < 256 * 1024, $"{allocated} bytes allocated while splicing {2 * total} bytes");
    }

    public void Dispose() => _t.Dispose();
}
