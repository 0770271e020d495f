using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Engine.Host.Config;
using Engine.Host.Turn;
using Engine.Ice;
using Engine.Ice.Turn;

namespace Engine.Host.Tests.Turn;

/// <summary>The TURN host on loopback with real sockets: a client allocates, binds a channel and relays through a peer socket.</summary>
public sealed class TurnHostTests : IDisposable
{
    private const string Realm = "host.test";
    private readonly TurnConfig _config;
    private readonly TurnHost _host;
    private readonly Socket _client = Udp();
    private readonly Socket _peer = Udp();
    private readonly IPEndPoint _server;
    private byte[] _nonce = Array.Empty<byte>();

    public TurnHostTests()
    {
        int port = FreeUdpPort();
        int min = 30000 + Random.Shared.Next(100) * 200;
        _config = new TurnConfig { ListeningPort = port, TlsListeningPort = FreeTcpPort(), MinPort = min, MaxPort = min + 199, Realm = Realm, NoTls = true };
        _config.ListeningIps.Add(IPAddress.Loopback);
        _config.RelayIps.Add(IPAddress.Loopback);
        _config.Users["alice"] = "alice-pass";
        _config.AllowedPeers.Add(TurnIpRange.Parse("127.0.0.1"));
        _host = new TurnHost(_config);
        _host.Start();
        _server = new IPEndPoint(IPAddress.Loopback, port);
    }

    private static Socket Udp()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        s.ReceiveTimeout = 5000;
        return s;
    }

    private static int FreeUdpPort()
    {
        using var s = Udp();
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    private static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private delegate void Attributes(ref StunMessageWriter w);

    private byte[] Request(StunMethod method, Attributes add, bool authenticate = true)
    {
        var buffer = new byte[1024];
        var w = new StunMessageWriter(buffer, method, StunClass.Request, RandomNumberGenerator.GetBytes(12));
        add(ref w);
        if (authenticate && _nonce.Length > 0)
        {
            var key = new byte[16];
            StunLongTermCredential.TryComputeKey("alice", Realm, "alice-pass", key);
            w.AddText(StunAttributeType.Username, "alice");
            w.AddText(StunAttributeType.Realm, Realm);
            w.AddAttribute(StunAttributeType.Nonce, _nonce);
            w.AddMessageIntegrity(key);
        }
        w.AddFingerprint();
        _client.SendTo(buffer.AsSpan(0, w.Length), _server);
        var response = new byte[2048];
        int n = _client.Receive(response);
        Assert.True(StunMessageView.TryRead(response.AsSpan(0, n), out var m));
        if (m.TryGetNonce(out var nonce))
            _nonce = nonce.ToArray();
        return response[..n];
    }

    private static int ErrorCode(byte[] response)
    {
        Assert.True(StunMessageView.TryRead(response, out var m));
        if (m.Class == StunClass.SuccessResponse)
            return 0;
        Assert.True(m.TryGetErrorCode(out int code, out _));
        return code;
    }

    private NetAddress Allocate()
    {
        Assert.Equal(401, ErrorCode(Request(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(17), authenticate: false)));
        var ok = Request(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(17));
        Assert.Equal(0, ErrorCode(ok));
        Assert.True(StunMessageView.TryRead(ok, out var m));
        Assert.True(m.TryGetXorRelayedAddress(out var relay));
        return relay;
    }

    [Fact]
    public void BindingIsAnsweredWithTheReflexiveAddress()
    {
        var response = Request(StunMethod.Binding, (ref StunMessageWriter w) => { }, authenticate: false);
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(NetAddress.FromIPEndPoint((IPEndPoint)_client.LocalEndPoint!), mapped);
    }

    [Fact]
    public void ChannelDataRelaysBothWaysAndAllocatesNothingOnTheTurnThread()
    {
        var relay = Allocate();
        Assert.InRange(relay.Port, _config.MinPort, _config.MaxPort);
        var peer = NetAddress.FromIPEndPoint((IPEndPoint)_peer.LocalEndPoint!);
        Assert.Equal(0, ErrorCode(Request(StunMethod.ChannelBind, (ref StunMessageWriter w) => { w.AddChannelNumber(0x4001); w.AddXorPeerAddress(peer); })));

        var packet = new byte[4 + 1000];
        var echo = new byte[2048];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        void RoundTrip(int i)
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet, 0x4001);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 1000);
            BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), i);
            _client.SendTo(packet, _server);
            int n = _peer.ReceiveFrom(echo, ref from);
            Assert.Equal(1000, n);
            Assert.Equal(relay, NetAddress.FromIPEndPoint((IPEndPoint)from));
            Assert.Equal(i, BinaryPrimitives.ReadInt32BigEndian(echo));
            _peer.SendTo(echo.AsSpan(0, n), from);
            n = _client.Receive(echo);
            Assert.Equal(1004, n);
            Assert.Equal(0x4001, BinaryPrimitives.ReadUInt16BigEndian(echo));
            Assert.Equal(i, BinaryPrimitives.ReadInt32BigEndian(echo.AsSpan(4)));
        }
        for (int i = 0; i < 200; i++)
            RoundTrip(i);
        Thread.Sleep(300); // the TURN thread publishes its allocated bytes every 100 ms
        long before = _host.AllocatedBytes;
        for (int i = 0; i < 2000; i++)
            RoundTrip(i);
        Thread.Sleep(300);
        Assert.Equal(before, _host.AllocatedBytes);

        var stats = _host.Snapshot();
        Assert.Equal(2200, stats.PacketsToPeer);
        Assert.Equal(2200, stats.PacketsToClient);
        Assert.Equal(1, stats.Allocations);
        Assert.Equal(1, stats.Channels);
    }

    [Fact]
    public void TheEnginesOwnMediaPortIsAlwaysAllowedAndOnlyThatPort()
    {
        using var media = Udp();
        using var other = Udp();
        var mediaAddress = (IPEndPoint)media.LocalEndPoint!;
        var config = new TurnConfig { ListeningPort = FreeUdpPort(), MinPort = _config.MinPort, MaxPort = _config.MaxPort, Realm = Realm, NoTls = true, NoTcp = true };
        config.ListeningIps.Add(IPAddress.Loopback);
        config.RelayIps.Add(IPAddress.Loopback);
        config.Users["alice"] = "alice-pass";
        using var host = new TurnHost(config, ownMediaAddresses: new[] { mediaAddress }); // no allowed-peer-ip: loopback is denied
        host.Start();
        var server = new IPEndPoint(IPAddress.Loopback, config.ListeningPort);
        byte[] Ask(StunMethod method, Attributes add)
        {
            var buffer = new byte[1024];
            var w = new StunMessageWriter(buffer, method, StunClass.Request, RandomNumberGenerator.GetBytes(12));
            add(ref w);
            if (_nonce.Length > 0)
            {
                var key = new byte[16];
                StunLongTermCredential.TryComputeKey("alice", Realm, "alice-pass", key);
                w.AddText(StunAttributeType.Username, "alice");
                w.AddText(StunAttributeType.Realm, Realm);
                w.AddAttribute(StunAttributeType.Nonce, _nonce);
                w.AddMessageIntegrity(key);
            }
            _client.SendTo(buffer.AsSpan(0, w.Length), server);
            var response = new byte[2048];
            int n = _client.Receive(response);
            Assert.True(StunMessageView.TryRead(response.AsSpan(0, n), out var m));
            if (m.TryGetNonce(out var nonce))
                _nonce = nonce.ToArray();
            return response[..n];
        }
        Assert.Equal(401, ErrorCode(Ask(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(17))));
        Assert.Equal(0, ErrorCode(Ask(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(17))));
        var mediaPeer = NetAddress.FromIPEndPoint(mediaAddress);
        var otherPeer = NetAddress.FromIPEndPoint((IPEndPoint)other.LocalEndPoint!);
        Assert.Equal(403, ErrorCode(Ask(StunMethod.ChannelBind, (ref StunMessageWriter w) => { w.AddChannelNumber(0x4002); w.AddXorPeerAddress(otherPeer); })));
        Assert.Equal(0, ErrorCode(Ask(StunMethod.ChannelBind, (ref StunMessageWriter w) => { w.AddChannelNumber(0x4001); w.AddXorPeerAddress(mediaPeer); })));

        // To the media port through the channel; a Send indication to another port of the same IP is refused.
        var packet = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(packet, 0x4001);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 4);
        _client.SendTo(packet, server);
        var got = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        media.ReceiveTimeout = 5000;
        Assert.Equal(4, media.ReceiveFrom(got, ref from));
        var buffer = new byte[256];
        var send = new StunMessageWriter(buffer, StunMethod.Send, StunClass.Indication, RandomNumberGenerator.GetBytes(12));
        send.AddXorPeerAddress(otherPeer);
        send.AddAttribute(StunAttributeType.Data, "nope"u8);
        _client.SendTo(buffer.AsSpan(0, send.Length), server);
        // Another local port sending to the relay is dropped, though the IP has a permission.
        other.SendTo("nope"u8, from);
        media.SendTo("back"u8, from);
        Assert.Equal(8, _client.Receive(got)); // ChannelData header + "back"; "nope" never arrives
        Assert.Equal("back"u8.ToArray(), got.AsSpan(4, 4).ToArray());
        other.ReceiveTimeout = 300;
        Assert.Throws<SocketException>(() => other.Receive(got));
        Thread.Sleep(300);
        var stats = host.Snapshot();
        Assert.True(stats.CoreDrops[(int)TurnDropReason.ForbiddenPeer] >= 3, string.Join(",", stats.CoreDrops));
    }

    [Fact]
    public void GarbageIsCountedAndTheServerKeepsAnswering()
    {
        var rng = new Random(17);
        var junk = new byte[300];
        for (int i = 0; i < 500; i++)
        {
            rng.NextBytes(junk);
            junk[0] &= 0x3F; // looks like STUN, mostly malformed
            _client.SendTo(junk.AsSpan(0, rng.Next(1, junk.Length)), _server);
        }
        BindingIsAnsweredWithTheReflexiveAddress();
        Thread.Sleep(300);
        var stats = _host.Snapshot();
        Assert.True(stats.CoreDrops[(int)TurnDropReason.Malformed] > 0);
        Assert.Equal(0, stats.HostDrops[(int)TurnHostDrop.Fault]);
    }

    [Fact]
    public void ATcpStreamThatIsNotTurnIsClosedAndCounted()
    {
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
        tcp.Connect(_server);
        // A TLS ClientHello on the plain port: STUN-shaped first byte, no magic cookie (GET would pass for ChannelData and wait).
        tcp.Send(new byte[] { 0x16, 0x03, 0x01, 0x00, 0x50, 0x01, 0x00, 0x00, 0x4c, 0x03, 0x03, 0x00 });
        var buffer = new byte[64];
        Assert.Equal(0, tcp.Receive(buffer)); // closed by the server
        for (int i = 0; i < 50 && _host.HostCounters[TurnHostDrop.NotTurnStream] == 0; i++)
            Thread.Sleep(20);
        Assert.Equal(1, _host.HostCounters[TurnHostDrop.NotTurnStream]);
    }

    [Fact]
    public void ATcpAllocationEndsWithItsConnection()
    {
        using (var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 })
        {
            tcp.Connect(_server);
            byte[] Exchange(bool authenticate)
            {
                var buffer = new byte[1024];
                var w = new StunMessageWriter(buffer, StunMethod.Allocate, StunClass.Request, RandomNumberGenerator.GetBytes(12));
                w.AddRequestedTransport(17);
                if (authenticate)
                {
                    var key = new byte[16];
                    StunLongTermCredential.TryComputeKey("alice", Realm, "alice-pass", key);
                    w.AddText(StunAttributeType.Username, "alice");
                    w.AddText(StunAttributeType.Realm, Realm);
                    w.AddAttribute(StunAttributeType.Nonce, _nonce);
                    w.AddMessageIntegrity(key);
                }
                tcp.Send(buffer.AsSpan(0, w.Length));
                var header = new byte[20];
                Assert.Equal(20, tcp.Receive(header, 20, SocketFlags.None));
                int length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
                var message = new byte[20 + length];
                header.CopyTo(message, 0);
                int got = 0;
                while (got < length)
                    got += tcp.Receive(message, 20 + got, length - got, SocketFlags.None);
                Assert.True(StunMessageView.TryRead(message, out var m));
                if (m.TryGetNonce(out var nonce))
                    _nonce = nonce.ToArray();
                return message;
            }
            Assert.Equal(401, ErrorCode(Exchange(false)));
            Assert.Equal(0, ErrorCode(Exchange(true)));
            Thread.Sleep(300);
            Assert.Equal(1, _host.Snapshot().Allocations);
        }
        for (int i = 0; i < 50 && _host.Snapshot().Allocations != 0; i++)
            Thread.Sleep(50);
        Assert.Equal(0, _host.Snapshot().Allocations);
    }

    public void Dispose()
    {
        _host.Dispose();
        _client.Dispose();
        _peer.Dispose();
    }
}
