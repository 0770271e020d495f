using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Engine.Host.Config;
using Engine.Host.Metrics;
using Engine.Host.Turn;
using Engine.Ice;

namespace Engine.Host.Tests.Turn;

/// <summary>
/// The TURN host on loopback: EVEN-PORT with R keeps port N+1 bound for its RESERVATION-TOKEN,
/// DONT-FRAGMENT sets the relayed socket's option, and TCP connections without an allocation are
/// closed after max-allocate-timeout; the per-IP connection cap refuses the extra ones.
/// </summary>
public sealed class TurnHostAllocateOptionsTests : IDisposable
{
    private const string Realm = "host.test";
    private readonly List<IDisposable> _owned = new();

    private (TurnHost Host, TurnConfig Config) NewHost(int maxAllocateTimeoutSeconds = 60)
    {
        int min = 30000 + Random.Shared.Next(100) * 200;
        var config = new TurnConfig
        {
            ListeningPort = FreeTcpAndUdpPort(), MinPort = min, MaxPort = min + 199, Realm = Realm, NoTls = true,
            MaxAllocateTimeoutSeconds = maxAllocateTimeoutSeconds,
        };
        config.ListeningIps.Add(IPAddress.Loopback);
        config.RelayIps.Add(IPAddress.Loopback);
        config.RelayIps.Add(IPAddress.IPv6Loopback);
        config.Users["alice"] = "alice-pass";
        config.AllowedPeers.Add(Engine.Ice.Turn.TurnIpRange.Parse("127.0.0.1"));
        var host = new TurnHost(config);
        _owned.Add(host);
        host.Start();
        return (host, config);
    }

    private static int FreeTcpAndUdpPort()
    {
        for (int i = 0; ; i++)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) when (i < 20)
            {
            }
        }
    }

    private Socket Udp()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _owned.Add(s);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        s.ReceiveTimeout = 5000;
        return s;
    }

    private Socket Tcp(TurnConfig config)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
        _owned.Add(s);
        s.Connect(new IPEndPoint(IPAddress.Loopback, config.ListeningPort));
        return s;
    }

    private delegate void Attributes(ref StunMessageWriter w);

    /// <summary>A long-term-credential client over UDP or TCP (one request at a time).</summary>
    private sealed class Client(Socket socket, TurnConfig config)
    {
        private byte[] _nonce = Array.Empty<byte>();

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
            if (_nonce.Length > 0 && method != StunMethod.Binding)
            {
                var key = new byte[16];
                StunLongTermCredential.TryComputeKey("alice", Realm, "alice-pass", key);
                w.AddText(StunAttributeType.Username, "alice");
                w.AddText(StunAttributeType.Realm, Realm);
                w.AddAttribute(StunAttributeType.Nonce, _nonce);
                w.AddMessageIntegrity(key);
            }
            w.AddFingerprint();
            var response = Exchange(buffer.AsSpan(0, w.Length));
            Assert.True(StunMessageView.TryRead(response, out var m));
            if (m.TryGetNonce(out var nonce))
                _nonce = nonce.ToArray();
            return response;
        }

        private byte[] Exchange(ReadOnlySpan<byte> request)
        {
            if (socket.SocketType == SocketType.Dgram)
            {
                socket.SendTo(request, new IPEndPoint(IPAddress.Loopback, config.ListeningPort));
                var datagram = new byte[2048];
                return datagram[..socket.Receive(datagram)];
            }
            socket.Send(request);
            var header = ReadExactly(20);
            var body = ReadExactly(BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)));
            return header.Concat(body).ToArray();
        }

        private byte[] ReadExactly(int length)
        {
            var bytes = new byte[length];
            for (int got = 0; got < length;)
            {
                int n = socket.Receive(bytes, got, length - got, SocketFlags.None);
                Assert.True(n > 0, "the server closed the connection");
                got += n;
            }
            return bytes;
        }

        public NetAddress AllocateOk(Attributes? extra, out byte[] response)
        {
            response = Request(StunMethod.Allocate, (ref StunMessageWriter w) =>
            {
                w.AddRequestedTransport(17);
                extra?.Invoke(ref w);
            });
            Assert.Equal(0, ErrorCode(response));
            Assert.True(StunMessageView.TryRead(response, out var m));
            Assert.True(m.TryGetXorRelayedAddress(out var relay));
            return relay;
        }
    }

    private static int ErrorCode(byte[] response)
    {
        Assert.True(StunMessageView.TryRead(response, out var m));
        if (m.Class == StunClass.SuccessResponse)
            return 0;
        Assert.True(m.TryGetErrorCode(out int code, out _));
        return code;
    }

    private static void AssertClosedByServer(Socket tcp)
    {
        var buffer = new byte[512];
        // Bounded: ReceiveTimeout is 5 s; anything the server still sent before closing is read first.
        for (int i = 0; i < 100; i++)
        {
            if (tcp.Receive(buffer) == 0)
                return;
        }
        Assert.Fail("the connection stayed open");
    }

    private static void WaitFor(Func<bool> done, string what)
    {
        for (int i = 0; i < 100 && !done(); i++)
            Thread.Sleep(50);
        Assert.True(done(), what);
    }

    [Fact]
    public void EvenPortWithR_KeepsPortNPlusOneBoundUntilItsTokenClaimsIt()
    {
        var (host, config) = NewHost();
        var rtp = new Client(Udp(), config);
        var relay = rtp.AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.EvenPort, new byte[] { 0x80 }), out var response);
        Assert.Equal(0, relay.Port % 2);
        Assert.InRange(relay.Port, config.MinPort, config.MaxPort - 1);
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.TryGetAttribute(StunAttributeType.ReservationToken, out var t) && t.Length == 8);
        var token = t.ToArray();

        // N+1 is held by the host: nobody else can bind it.
        using (var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            var e = Assert.Throws<SocketException>(() => squatter.Bind(new IPEndPoint(IPAddress.Loopback, relay.Port + 1)));
            Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
        }

        // Another client claims it with the token and relays through it both ways.
        var rtcpSocket = Udp();
        var rtcp = new Client(rtcpSocket, config);
        var claimed = rtcp.AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ReservationToken, token), out _);
        Assert.Equal(relay.Port + 1, claimed.Port);
        var peerSocket = Udp();
        var peer = NetAddress.FromIPEndPoint((IPEndPoint)peerSocket.LocalEndPoint!);
        Assert.Equal(0, ErrorCode(rtcp.Request(StunMethod.ChannelBind, (ref StunMessageWriter w) => { w.AddChannelNumber(0x4001); w.AddXorPeerAddress(peer); })));
        var packet = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(packet, 0x4001);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 4);
        "rtcp"u8.CopyTo(packet.AsSpan(4));
        rtcpSocket.SendTo(packet, new IPEndPoint(IPAddress.Loopback, config.ListeningPort));
        var got = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        Assert.Equal(4, peerSocket.ReceiveFrom(got, ref from));
        Assert.Equal(relay.Port + 1, ((IPEndPoint)from).Port);
        peerSocket.SendTo("back"u8, from);
        Assert.Equal(8, rtcpSocket.Receive(got));
        Assert.Equal("back"u8.ToArray(), got.AsSpan(4, 4).ToArray());

        // Claimed once only.
        var third = new Client(Udp(), config);
        Assert.Equal(508, ErrorCode(third.Request(StunMethod.Allocate, (ref StunMessageWriter w) =>
        {
            w.AddRequestedTransport(17);
            w.AddAttribute(StunAttributeType.ReservationToken, token);
        })));
        Thread.Sleep(300);
        Assert.Equal(2, host.Snapshot().Allocations);
    }

    [Fact]
    public void DontFragment_SetsTheRelayedSocketsOption_IPv4AndIPv6()
    {
        var (host, config) = NewHost();
        var plain = new Client(Udp(), config).AllocateOk(null, out _);
        var df = new Client(Udp(), config).AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.DontFragment, default), out _);
        var df6 = new Client(Udp(), config).AllocateOk((ref StunMessageWriter w) =>
        {
            w.AddAttribute(StunAttributeType.DontFragment, default);
            w.AddAttribute(StunAttributeType.RequestedAddressFamily, new byte[] { 2, 0, 0, 0 });
        }, out _);
        Assert.True(df6.IsIPv6);
        Thread.Sleep(100); // the TURN thread is done with these requests before the test reads its table

        // getsockopt on the host's own sockets: IP_MTU_DISCOVER is IP_PMTUDISC_DO (2) with DF, the default (1) without.
        Assert.Equal(TurnHost.IpPmtuDiscDo, host.RelaySocketOption(df, TurnHost.IpProtoIp, TurnHost.IpMtuDiscover));
        Assert.NotEqual(TurnHost.IpPmtuDiscDo, host.RelaySocketOption(plain, TurnHost.IpProtoIp, TurnHost.IpMtuDiscover));
        Assert.Equal(1, host.RelaySocketOption(df6, TurnHost.IpProtoIpv6, TurnHost.Ipv6DontFrag));
    }

    [Fact]
    public void TcpConnectionsWithoutAnAllocationAreClosedAfterMaxAllocateTimeout()
    {
        // 2 s: the first Binding is answered well inside it even on a loaded machine.
        var (host, config) = NewHost(maxAllocateTimeoutSeconds: 2);

        // Silent: closed.
        var silent = Tcp(config);
        AssertClosedByServer(silent);

        // Binding requests only: answered, then closed all the same.
        var binder = Tcp(config);
        var bindings = new Client(binder, config);
        int answered = 0;
        try
        {
            for (int i = 0; i < 60; i++)
            {
                var r = bindings.Request(StunMethod.Binding);
                Assert.Equal(0, ErrorCode(r));
                answered++;
                Thread.Sleep(100);
            }
        }
        catch (Exception e) when (e is SocketException or Xunit.Sdk.XunitException)
        {
            // closed under us: expected
        }
        Assert.InRange(answered, 1, 59);

        // With an allocation: kept past the timeout; closed once the allocation is deleted.
        var allocating = Tcp(config);
        var client = new Client(allocating, config);
        client.AllocateOk(null, out _);
        Thread.Sleep(3500); // past 1.25 timeouts, when an idle connection would be gone
        Assert.Equal(0, ErrorCode(client.Request(StunMethod.Binding)));
        Assert.Equal(0, ErrorCode(client.Request(StunMethod.Refresh, (ref StunMessageWriter w) => w.AddLifetime(0))));
        AssertClosedByServer(allocating);

        WaitFor(() => host.HostCounters[TurnHostDrop.IdleTimeout] == 3, $"3 idle closes, got {host.HostCounters[TurnHostDrop.IdleTimeout]}");
        WaitFor(() => host.Snapshot().Connections == 0, "the connections to be gone");
        // The reason is a label of /metrics.
        var text = new ArrayBufferWriter<byte>();
        new TurnMetrics(host).Write(new MetricsWriter(text));
        Assert.Contains("engine_turn_drops_total{reason=\"idle_timeout\"} 3", Encoding.ASCII.GetString(text.WrittenSpan));
    }

    [Fact]
    public void TheConnectionsOfOneIpAreCapped()
    {
        var (host, config) = NewHost();
        host.MaxConnectionsPerIp = 2;
        var first = Tcp(config);
        var second = Tcp(config);
        Assert.Equal(0, ErrorCode(new Client(first, config).Request(StunMethod.Binding)));
        Assert.Equal(0, ErrorCode(new Client(second, config).Request(StunMethod.Binding)));
        AssertClosedByServer(Tcp(config));
        Assert.Equal(1, host.HostCounters[TurnHostDrop.TooManyConnectionsFromIp]);

        // A slot comes back when a connection ends.
        first.Dispose();
        WaitFor(() => host.Snapshot().Connections == 1, "the first connection to be gone");
        Assert.Equal(0, ErrorCode(new Client(Tcp(config), config).Request(StunMethod.Binding)));
        Assert.Equal(1, host.HostCounters[TurnHostDrop.TooManyConnectionsFromIp]);
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
    }
}
