using System.Buffers.Binary;
using Engine.Ice.Turn;

namespace Engine.Ice.Tests.Turn;

/// <summary>Records what the core asks of the host for TCP allocations (RFC 6062).</summary>
internal sealed class FakeTcpRelay : ITurnTcpRelay
{
    private ushort _nextPort = 50000;
    public HashSet<NetAddress> Listeners { get; } = new();
    public List<NetAddress> ClosedListeners { get; } = new();
    public List<(uint Id, NetAddress Relay, NetAddress Peer)> Connects { get; } = new();
    public List<(uint Id, TurnFiveTuple Data)> Splices { get; } = new();
    public List<uint> Closed { get; } = new();
    public bool Full { get; set; }

    public bool TryListen(bool ipv6, out NetAddress relayAddress)
    {
        relayAddress = default;
        if (Full)
            return false;
        relayAddress = T.A(ipv6 ? $"[2001:db8::100]:{_nextPort}" : $"198.51.100.1:{_nextPort}");
        _nextPort++;
        Listeners.Add(relayAddress);
        return true;
    }

    public void CloseListener(in NetAddress relayAddress)
    {
        Assert.True(Listeners.Remove(relayAddress), "closed a listener that was not opened");
        ClosedListeners.Add(relayAddress);
    }

    public void Connect(uint connectionId, in NetAddress relayAddress, in NetAddress peer) => Connects.Add((connectionId, relayAddress, peer));

    public void Splice(uint connectionId, in TurnFiveTuple dataConnection) => Splices.Add((connectionId, dataConnection));

    public void Close(uint connectionId) => Closed.Add(connectionId);
}

public class TurnTcpAllocationTests
{
    private static readonly NetAddress Peer = T.A("203.0.113.50:40000");
    private readonly TestClock _clock = new();
    private readonly FakeRelayPortAllocator _ports = new();
    private readonly FakeTcpRelay _tcp = new();
    private readonly byte[] _output = new byte[2048];

    private TurnServer Server(Action<TurnServerOptions>? configure = null)
    {
        var o = T.Options();
        configure?.Invoke(o);
        return new TurnServer(o, _ports, _tcp);
    }

    private static byte[] AllocateTcp(TurnTestClient client, AddAttributes? extra = null) =>
        client.Request(StunMethod.Allocate, (ref StunMessageWriter w) =>
        {
            w.AddRequestedTransport(6);
            extra?.Invoke(ref w);
        });

    private (TurnServer Server, TurnTestClient Control, NetAddress Relay) Allocated(TurnTransport transport = TurnTransport.Tcp, Action<TurnServerOptions>? configure = null)
    {
        var server = Server(configure);
        var control = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000", transport));
        var response = AllocateTcp(control);
        Assert.Equal(0, T.ErrorCode(response));
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.TryGetXorRelayedAddress(out var relay));
        return (server, control, relay);
    }

    private static AddAttributes PeerAttribute(NetAddress peer) => (ref StunMessageWriter w) => w.AddXorPeerAddress(peer);

    /// <summary>Sends Connect; returns the error code of an immediate answer, or null when the core asked the host to connect.</summary>
    private static int? Connect(TurnTestClient control, NetAddress peer)
    {
        var (action, output, _, _) = control.Send(control.Build(StunMethod.Connect, StunClass.Request, PeerAttribute(peer), authenticate: true));
        if (action == TurnAction.None)
            return null;
        return T.ErrorCode(output);
    }

    private static uint ConnectionId(ReadOnlySpan<byte> message)
    {
        Assert.True(StunMessageView.TryRead(message, out var m));
        Assert.True(m.TryGetAttribute(StunAttributeType.ConnectionId, out var v));
        Assert.Equal(4, v.Length);
        return BinaryPrimitives.ReadUInt32BigEndian(v);
    }

    private static AddAttributes IdAttribute(uint id) => (ref StunMessageWriter w) =>
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(v, id);
        w.AddAttribute(StunAttributeType.ConnectionId, v);
    };

    private uint ConnectedId(TurnServer server, TurnTestClient control, NetAddress peer)
    {
        Assert.Equal(0, T.ErrorCode(control.CreatePermission(peer)));
        Assert.Null(Connect(control, peer));
        var (id, _, _) = _tcp.Connects[^1];
        var action = server.HandlePeerConnectResult(id, connected: true, _clock.Now, _output, out int length, out var to);
        Assert.Equal(TurnAction.ToClient, action);
        Assert.Equal(control.Tuple, to);
        Assert.Equal(0, T.ErrorCode(_output[..length]));
        Assert.Equal(id, ConnectionId(_output.AsSpan(0, length)));
        return id;
    }

    private TurnTestClient DataClient(TurnServer server, string address = "203.0.113.7:50001", TurnTransport transport = TurnTransport.Tcp) =>
        new(server, _clock, T.Tuple(address, transport));

    [Fact]
    public void AllocateTcp_OverTcpGivesAListener_AndUdpOnlyAttributesAre400()
    {
        var (server, _, relay) = Allocated();
        Assert.Contains(relay, _tcp.Listeners);
        Assert.Empty(_ports.Active); // no UDP socket for a TCP allocation
        Assert.Equal(1, server.Counters.Allocations);

        // RFC 6062 §5.1: not over UDP, and no EVEN-PORT / DONT-FRAGMENT / RESERVATION-TOKEN.
        var udp = new TurnTestClient(server, _clock, T.Tuple("203.0.113.8:1000"));
        Assert.Equal(400, T.ErrorCode(AllocateTcp(udp)));
        var even = new TurnTestClient(server, _clock, T.Tuple("203.0.113.8:1001", TurnTransport.Tcp));
        Assert.Equal(400, T.ErrorCode(AllocateTcp(even, (ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.EvenPort, [0x80]))));
        var df = new TurnTestClient(server, _clock, T.Tuple("203.0.113.8:1002", TurnTransport.Tls));
        Assert.Equal(400, T.ErrorCode(AllocateTcp(df, (ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.DontFragment, []))));
        Assert.Single(_tcp.Listeners);
    }

    [Fact]
    public void AllocateTcp_WithoutAHostTcpSideIs442()
    {
        var server = new TurnServer(T.Options(), _ports);
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000", TurnTransport.Tcp));
        Assert.Equal(442, T.ErrorCode(AllocateTcp(client)));
    }

    [Fact]
    public void AllocateTcp_NoListenerFreeIs508()
    {
        var server = Server();
        _tcp.Full = true;
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000", TurnTransport.Tcp));
        Assert.Equal(508, T.ErrorCode(AllocateTcp(client)));
        Assert.Equal(0, server.AllocationCount);
    }

    [Fact]
    public void Connect_WithoutPermissionIs403_WithOneTheHostConnects()
    {
        var (server, control, relay) = Allocated();
        Assert.Equal(403, Connect(control, Peer));
        Assert.Empty(_tcp.Connects);

        Assert.Equal(0, T.ErrorCode(control.CreatePermission(Peer)));
        Assert.Null(Connect(control, Peer));
        var (id, from, to) = Assert.Single(_tcp.Connects);
        Assert.Equal(relay, from);
        Assert.Equal(Peer, to);
        Assert.NotEqual(0u, id);
        Assert.Equal(1, server.TcpConnectionCount);

        // The same peer again while the first is open: 446 (RFC 6062 §5.2).
        Assert.Equal(446, Connect(control, Peer));

        // The answer comes when the host reports, with the Connect's transaction id and CONNECTION-ID.
        var txid = control.LastTransactionId;
        Assert.Equal(TurnAction.ToClient, server.HandlePeerConnectResult(id, true, _clock.Now, _output, out int length, out var client));
        Assert.Equal(control.Tuple, client);
        Assert.True(StunMessageView.TryRead(_output.AsSpan(0, length), out var m));
        Assert.Equal(StunMethod.Connect, m.Method);
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.True(m.VerifyMessageIntegrity(control.Key));
        Assert.True(m.HasFingerprint && m.VerifyFingerprint());
        Assert.Equal(id, ConnectionId(_output.AsSpan(0, length)));
        Assert.NotEqual(txid, m.TransactionId.ToArray()); // the 446 request was the last one sent
        Assert.Equal(1, server.Counters.TcpConnectsSucceeded);
    }

    [Fact]
    public void Connect_WithoutPermissionWhenNotRequired_SucceedsAndInstallsThePermission()
    {
        // coturn's behaviour: TcpConnectRequiresPermission off.
        var (server, control, relay) = Allocated(configure: o => o.TcpConnectRequiresPermission = false);
        Assert.Null(Connect(control, Peer));
        Assert.Equal(0, server.Counters.Permissions);
        uint id = _tcp.Connects[0].Id;
        Assert.Equal(TurnAction.ToClient, server.HandlePeerConnectResult(id, true, _clock.Now, _output, out _, out _));
        // RFC 6062 §5.2: the successful Connect adds the peer's permission, so the peer's IP may connect in too.
        Assert.Equal(1, server.Counters.Permissions);
        Assert.Equal(TurnAction.ToClient, server.HandlePeerConnectionAccepted(relay, Peer.WithPort(1), _clock.Now, _output, out _, out _, out _));
        // Denied peers stay denied without a permission check.
        Assert.Equal(403, Connect(control, T.A("127.0.0.1:80")));
    }

    [Fact]
    public void DataConnection_MayReuseTheControlConnectionsNonce()
    {
        // coturn's clients send ConnectionBind with the nonce the control connection got: over TCP/TLS a
        // nonce is bound to the client's IP and transport, not its port.
        var (server, control, _) = Allocated();
        uint id = ConnectedId(server, control, Peer);
        var data = DataClient(server);
        var nonce = control.Build(StunMethod.Binding, StunClass.Request, null, authenticate: true);
        Assert.True(StunMessageView.TryRead(nonce, out var signed));
        Assert.True(signed.TryGetNonce(out var n));
        var request = new byte[512];
        var w = new StunMessageWriter(request, StunMethod.ConnectionBind, StunClass.Request, new byte[12]);
        IdAttribute(id)(ref w);
        w.AddText(StunAttributeType.Username, "alice");
        w.AddText(StunAttributeType.Realm, "example.org");
        w.AddAttribute(StunAttributeType.Nonce, n);
        w.AddMessageIntegrity(control.Key);
        var (_, output, _, _) = data.Send(request.AsSpan(0, w.Length));
        Assert.Equal(0, T.ErrorCode(output));
    }

    [Fact]
    public void Connect_FailureIs447_AndForgetsTheConnection()
    {
        var (server, control, _) = Allocated();
        Assert.Equal(0, T.ErrorCode(control.CreatePermission(Peer)));
        Assert.Null(Connect(control, Peer));
        var txid = control.LastTransactionId;
        uint id = _tcp.Connects[0].Id;
        Assert.Equal(TurnAction.ToClient, server.HandlePeerConnectResult(id, false, _clock.Now, _output, out int length, out _));
        Assert.Equal(447, T.ErrorCode(_output[..length]));
        Assert.True(StunMessageView.TryRead(_output.AsSpan(0, length), out var m));
        Assert.Equal(txid, m.TransactionId.ToArray());
        Assert.True(m.VerifyMessageIntegrity(control.Key));
        Assert.Equal(0, server.TcpConnectionCount);
        Assert.Equal(1, server.Counters.TcpConnectsFailed);
        // A late second report of the same id is ignored.
        Assert.Equal(TurnAction.None, server.HandlePeerConnectResult(id, true, _clock.Now, _output, out _, out _));
        // And the peer may be tried again.
        Assert.Null(Connect(control, Peer));
    }

    [Theory]
    [InlineData("127.0.0.1:80")]
    [InlineData("[::ffff:127.0.0.1]:80")]
    [InlineData("10.0.0.1:80")]
    [InlineData("169.254.169.254:80")]
    [InlineData("0.0.0.0:80")]
    [InlineData("[::1]:80")]
    public void Connect_ToADeniedPeerIs403_NoConnectionOpened(string peer)
    {
        var (server, control, _) = Allocated();
        var address = T.A(peer);
        // CreatePermission is refused too, so Connect is its own check.
        Assert.Equal(address.UnmapIPv4().IsIPv6 ? 443 : 403, T.ErrorCode(control.CreatePermission(address)));
        Assert.Equal(address.UnmapIPv4().IsIPv6 ? 443 : 403, Connect(control, address));
        Assert.Empty(_tcp.Connects);
        Assert.Equal(0, server.TcpConnectionCount);
    }

    [Fact]
    public void Connect_ToLoopbackWorksWhenAllowedPeerIpSaysSo()
    {
        var (_, control, _) = Allocated(configure: o => o.AllowedPeerRanges.Add(TurnIpRange.Parse("127.0.0.1")));
        var loopback = T.A("127.0.0.1:9000");
        Assert.Equal(0, T.ErrorCode(control.CreatePermission(loopback)));
        Assert.Null(Connect(control, loopback));
        Assert.Single(_tcp.Connects);
    }

    [Fact]
    public void Connect_OnAUdpAllocationIs400_WithoutAllocationIs437_WithoutPeerIs400()
    {
        var server = Server();
        var udp = new TurnTestClient(server, _clock, T.Tuple("203.0.113.9:1000", TurnTransport.Tcp));
        Assert.Equal(437, T.ErrorCode(udp.Request(StunMethod.Connect, PeerAttribute(Peer))));
        udp.AllocateOk();
        Assert.Equal(0, T.ErrorCode(udp.CreatePermission(Peer)));
        Assert.Equal(400, Connect(udp, Peer));

        var (_, control, _) = Allocated();
        Assert.Equal(400, T.ErrorCode(control.Request(StunMethod.Connect)));
        Assert.Empty(_tcp.Connects);
    }

    [Fact]
    public void ConnectionBind_SplicesTheDataConnection_WhichHoldsNoAllocation()
    {
        var (server, control, _) = Allocated();
        uint id = ConnectedId(server, control, Peer);
        var data = DataClient(server);
        var response = data.Request(StunMethod.ConnectionBind, IdAttribute(id));
        Assert.Equal(0, T.ErrorCode(response));
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.VerifyMessageIntegrity(data.Key));
        Assert.Equal((id, data.Tuple), Assert.Single(_tcp.Splices));
        Assert.True(server.IsTcpDataConnection(data.Tuple));
        Assert.False(server.HasAllocation(data.Tuple, _clock.Now));
        Assert.Equal(1, server.Counters.TcpBinds);

        // Bound: a second bind of the id is 400, and the bind timer no longer applies.
        var again = DataClient(server, "203.0.113.7:50002");
        Assert.Equal(400, T.ErrorCode(again.Request(StunMethod.ConnectionBind, IdAttribute(id))));
        _clock.Advance(31);
        server.HandleTimeout(_clock.Now);
        Assert.Equal(1, server.TcpConnectionCount);
        Assert.Empty(_tcp.Closed);

        // The data connection closing ends the peer connection (the host is told to close it).
        Assert.True(server.CloseConnection(data.Tuple));
        Assert.Equal(0, server.TcpConnectionCount);
        Assert.Equal(id, Assert.Single(_tcp.Closed));
        Assert.False(server.IsTcpDataConnection(data.Tuple));
        Assert.Equal(1, server.AllocationCount); // the allocation is the control connection's
    }

    [Fact]
    public void ConnectionBind_UnknownOrMalformedIdIs400_OtherUserIs441_ControlConnectionIs400()
    {
        var (server, control, _) = Allocated();
        uint id = ConnectedId(server, control, Peer);
        var data = DataClient(server);
        Assert.Equal(400, T.ErrorCode(data.Request(StunMethod.ConnectionBind, IdAttribute(id ^ 0x5A5A5A5A))));
        Assert.Equal(400, T.ErrorCode(data.Request(StunMethod.ConnectionBind, (ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ConnectionId, [1, 2]))));
        Assert.Equal(400, T.ErrorCode(data.Request(StunMethod.ConnectionBind)));
        // Over UDP: 400.
        var udp = DataClient(server, "203.0.113.7:50003", TurnTransport.Udp);
        Assert.Equal(400, T.ErrorCode(udp.Request(StunMethod.ConnectionBind, IdAttribute(id))));
        // TLS data connection for a TCP control connection: 400.
        var tls = DataClient(server, "203.0.113.7:50004", TurnTransport.Tls);
        Assert.Equal(400, T.ErrorCode(tls.Request(StunMethod.ConnectionBind, IdAttribute(id))));
        // Another user: 441.
        var bob = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50005", TurnTransport.Tcp), "bob", "bob-pass");
        Assert.Equal(441, T.ErrorCode(bob.Request(StunMethod.ConnectionBind, IdAttribute(id))));
        // On the control connection itself (it has an allocation): 400.
        Assert.Equal(400, T.ErrorCode(control.Request(StunMethod.ConnectionBind, IdAttribute(id))));
        // Without credentials: challenged, never bound.
        var (action, output, _, _) = data.Send(data.Build(StunMethod.ConnectionBind, StunClass.Request, IdAttribute(id), authenticate: false));
        Assert.Equal(TurnAction.ToClient, action);
        Assert.Equal(401, T.ErrorCode(output));
        Assert.Empty(_tcp.Splices);
        // A connection still connecting cannot be bound.
        Assert.Equal(0, T.ErrorCode(control.CreatePermission(T.A("203.0.113.51:1"))));
        Assert.Null(Connect(control, T.A("203.0.113.51:1")));
        Assert.Equal(400, T.ErrorCode(data.Request(StunMethod.ConnectionBind, IdAttribute(_tcp.Connects[^1].Id))));
        // The right one still binds.
        Assert.Equal(0, T.ErrorCode(data.Request(StunMethod.ConnectionBind, IdAttribute(id))));
    }

    [Fact]
    public void PendingConnection_IsClosedAfter30sWithoutConnectionBind()
    {
        var (server, control, _) = Allocated();
        uint id = ConnectedId(server, control, Peer);
        _clock.Advance(29);
        server.HandleTimeout(_clock.Now);
        Assert.Equal(1, server.TcpConnectionCount);
        Assert.Empty(_tcp.Closed);
        Assert.True(server.NextTimeoutMicros <= _clock.Now + 1_000_000);

        _clock.Advance(1.5);
        // Expired but not yet swept: a ConnectionBind is refused anyway.
        var data = DataClient(server);
        Assert.Equal(400, T.ErrorCode(data.Request(StunMethod.ConnectionBind, IdAttribute(id))));
        server.HandleTimeout(_clock.Now);
        Assert.Equal(0, server.TcpConnectionCount);
        Assert.Equal(id, Assert.Single(_tcp.Closed));
        Assert.Equal(1, server.Counters.TcpBindTimeouts);
        Assert.Empty(_tcp.Splices);
    }

    [Fact]
    public void InboundPeer_WithPermissionGetsAConnectionAttempt_WithoutIsDropped()
    {
        var (server, control, relay) = Allocated();
        Assert.Equal(TurnAction.None, server.HandlePeerConnectionAccepted(relay, Peer, _clock.Now, _output, out _, out _, out _));
        Assert.Equal(1, server.Counters[TurnDropReason.NoPermission]);

        Assert.Equal(0, T.ErrorCode(control.CreatePermission(Peer)));
        var action = server.HandlePeerConnectionAccepted(relay, Peer.WithPort(41000), _clock.Now, _output, out int length, out var client, out uint id);
        Assert.Equal(TurnAction.ToClient, action);
        Assert.Equal(control.Tuple, client);
        Assert.True(StunMessageView.TryRead(_output.AsSpan(0, length), out var m));
        Assert.Equal(StunMethod.ConnectionAttempt, m.Method);
        Assert.Equal(StunClass.Indication, m.Class);
        Assert.Equal(id, ConnectionId(_output.AsSpan(0, length)));
        Assert.True(m.TryGetXorPeerAddress(out var peer));
        Assert.Equal(Peer.WithPort(41000), peer);
        Assert.Equal(1, server.Counters.TcpConnectionAttempts);

        var data = DataClient(server);
        Assert.Equal(0, T.ErrorCode(data.Request(StunMethod.ConnectionBind, IdAttribute(id))));
        Assert.Equal(id, Assert.Single(_tcp.Splices).Id);

        // The host reports the splice ended: the core forgets it without asking the host to close again.
        server.HandleTcpConnectionClosed(id);
        Assert.Equal(0, server.TcpConnectionCount);
        Assert.Empty(_tcp.Closed);
        Assert.False(server.IsTcpDataConnection(data.Tuple));
    }

    [Fact]
    public void InboundPeer_ToAUdpRelayOrUnknownAddressIsDropped_AndTheLimitHolds()
    {
        var (server, control, relay) = Allocated(configure: o => o.MaxTcpConnectionsPerAllocation = 2);
        Assert.Equal(TurnAction.None, server.HandlePeerConnectionAccepted(T.A("198.51.100.1:1"), Peer, _clock.Now, _output, out _, out _, out _));
        Assert.Equal(1, server.Counters[TurnDropReason.NoAllocation]);
        Assert.Equal(0, T.ErrorCode(control.CreatePermission(Peer)));
        for (int i = 0; i < 2; i++)
            Assert.Equal(TurnAction.ToClient, server.HandlePeerConnectionAccepted(relay, Peer.WithPort((ushort)(1000 + i)), _clock.Now, _output, out _, out _, out _));
        Assert.Equal(TurnAction.None, server.HandlePeerConnectionAccepted(relay, Peer.WithPort(1002), _clock.Now, _output, out _, out _, out _));
        Assert.Equal(1, server.Counters[TurnDropReason.TcpConnectionLimit]);
        Assert.Equal(508, Connect(control, T.A("203.0.113.50:2000")));
    }

    [Fact]
    public void AllocationEnd_ClosesItsListenerAndEveryPeerConnection()
    {
        var (server, control, relay) = Allocated();
        uint bound = ConnectedId(server, control, Peer);
        var data = DataClient(server);
        Assert.Equal(0, T.ErrorCode(data.Request(StunMethod.ConnectionBind, IdAttribute(bound))));
        var other = T.A("203.0.113.51:5000");
        Assert.Equal(0, T.ErrorCode(control.CreatePermission(other)));
        Assert.Null(Connect(control, other));
        uint connecting = _tcp.Connects[^1].Id;

        Assert.True(server.CloseConnection(control.Tuple)); // the control connection closed
        Assert.Equal(0, server.AllocationCount);
        Assert.Equal(0, server.TcpConnectionCount);
        Assert.Equal(0, server.Counters.TcpConnections);
        Assert.Equal(new[] { bound, connecting }.Order(), _tcp.Closed.Order());
        Assert.Equal(relay, Assert.Single(_tcp.ClosedListeners));
        Assert.False(server.IsTcpDataConnection(data.Tuple));
        // The host's late connect outcome finds nothing.
        Assert.Equal(TurnAction.None, server.HandlePeerConnectResult(connecting, true, _clock.Now, _output, out _, out _));
    }

    [Fact]
    public void RefreshToZero_AndExpiry_EndTcpAllocationsToo()
    {
        var (server, control, _) = Allocated();
        ConnectedId(server, control, Peer);
        Assert.Equal(0, T.ErrorCode(control.Refresh(0)));
        Assert.Single(_tcp.Closed);
        Assert.Single(_tcp.ClosedListeners);

        var (server2, control2, _) = Allocated();
        ConnectedId(server2, control2, Peer);
        _clock.Advance(601);
        server2.HandleTimeout(_clock.Now);
        Assert.Equal(0, server2.AllocationCount);
        Assert.Equal(2, _tcp.Closed.Count);
        Assert.Equal(0, server2.Counters.TcpConnections);
    }

    [Fact]
    public void ChannelBindAndSendOnATcpAllocationAreRefused()
    {
        var (server, control, _) = Allocated();
        Assert.Equal(0, T.ErrorCode(control.CreatePermission(Peer)));
        Assert.Equal(400, T.ErrorCode(control.ChannelBind(0x4000, Peer)));
        Assert.Equal(TurnAction.None, control.Send(control.SendIndication(Peer, [1, 2, 3])).Action);
        Assert.Equal(1, server.Counters[TurnDropReason.TcpAllocation]);
    }

    [Fact]
    public void ConnectOverTls_AndItsDataConnectionOverTls()
    {
        var (server, control, _) = Allocated(TurnTransport.Tls);
        uint id = ConnectedId(server, control, Peer);
        var data = DataClient(server, transport: TurnTransport.Tls);
        Assert.Equal(0, T.ErrorCode(data.Request(StunMethod.ConnectionBind, IdAttribute(id))));
        Assert.True(server.IsTcpDataConnection(data.Tuple));
    }
}
