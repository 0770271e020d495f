using Engine.Ice.Turn;

namespace Engine.Ice.Tests.Turn;

public class TurnRelayTests
{
    private static readonly NetAddress Peer = T.A("203.0.113.50:40000");
    private readonly TestClock _clock = new();
    private readonly FakeRelayPortAllocator _ports = new();

    private (TurnServer Server, TurnTestClient Client, NetAddress Relay) Allocated(TurnTransport transport = TurnTransport.Udp, Action<TurnServerOptions>? configure = null)
    {
        var o = T.Options();
        configure?.Invoke(o);
        var server = new TurnServer(o, _ports);
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000", transport));
        return (server, client, client.AllocateOk());
    }

    [Fact]
    public void CreatePermissionThenSend_ReachesThePeerFromTheRelay()
    {
        var (server, client, relay) = Allocated();
        var payload = new byte[] { 1, 2, 3, 4, 5 };

        // Without a permission nothing leaves.
        Assert.Equal(TurnAction.None, client.Send(client.SendIndication(Peer, payload)).Action);
        Assert.Equal(1, server.Counters[TurnDropReason.NoPermission]);

        var r = client.CreatePermission(Peer);
        Assert.Equal(0, T.ErrorCode(r));
        Assert.True(StunMessageView.TryRead(r, out var m));
        Assert.True(m.VerifyMessageIntegrity(client.Key));
        Assert.Equal(1, server.Counters.Permissions);

        var (action, output, from, to) = client.Send(client.SendIndication(Peer, payload));
        Assert.Equal(TurnAction.ToPeer, action);
        Assert.Equal(payload, output);
        Assert.Equal(relay, from);
        Assert.Equal(Peer, to);
        // The permission is per IP: another port of the same peer is fine too.
        Assert.Equal(TurnAction.ToPeer, client.Send(client.SendIndication(Peer.WithPort(1234), payload)).Action);
        Assert.Equal(2, server.Counters.PacketsToPeer);
        Assert.Equal(10, server.Counters.BytesToPeer);
    }

    [Fact]
    public void CreatePermission_WithSeveralPeersInstallsAll_AndNeedsOne()
    {
        var (server, client, _) = Allocated();
        Assert.Equal(0, T.ErrorCode(client.CreatePermission(Peer, T.A("203.0.113.51:1"), T.A("203.0.113.52:1"))));
        Assert.Equal(3, server.Counters.Permissions);
        Assert.Equal(400, T.ErrorCode(client.CreatePermission()));
        // One forbidden peer fails the whole request and installs none (RFC 8656 §9.2).
        Assert.Equal(403, T.ErrorCode(client.CreatePermission(T.A("203.0.113.60:1"), T.A("127.0.0.1:1"))));
        Assert.Equal(3, server.Counters.Permissions);
        // An IPv6 peer on an IPv4-only allocation.
        Assert.Equal(443, T.ErrorCode(client.CreatePermission(T.A("[2001:db8::5]:1"))));
    }

    [Fact]
    public void PeerDatagram_BecomesADataIndication_OnlyWithPermission()
    {
        var (server, client, relay) = Allocated();
        var output = new byte[1500];
        var data = new byte[] { 9, 8, 7 };
        Assert.Equal(TurnAction.None, server.HandlePeerDatagram(relay, Peer, data, _clock.Now, output, out _, out _));
        Assert.Equal(1, server.Counters[TurnDropReason.NoPermission]);

        client.CreatePermission(Peer);
        var action = server.HandlePeerDatagram(relay, Peer, data, _clock.Now, output, out int length, out var to);
        Assert.Equal(TurnAction.ToClient, action);
        Assert.Equal(client.Tuple, to);
        Assert.True(StunMessageView.TryRead(output.AsSpan(0, length), out var m));
        Assert.Equal(StunMethod.Data, m.Method);
        Assert.Equal(StunClass.Indication, m.Class);
        Assert.True(m.TryGetXorPeerAddress(out var peer));
        Assert.Equal(Peer, peer);
        Assert.True(m.TryGetData(out var got));
        Assert.Equal(data, got.ToArray());
        Assert.Equal(1, server.Counters.PacketsToClient);
        Assert.Equal(3, server.Counters.BytesToClient);

        // A dual-stack socket's view of the same peer is the same peer.
        var mapped = T.A("[::ffff:203.0.113.50]:40000");
        Assert.Equal(TurnAction.ToClient, server.HandlePeerDatagram(relay, mapped, data, _clock.Now, output, out _, out _));
    }

    [Theory]
    [InlineData(TurnTransport.Udp)]
    [InlineData(TurnTransport.Tcp)]
    public void ChannelBind_ThenChannelDataBothWays(TurnTransport transport)
    {
        var (server, client, relay) = Allocated(transport);
        Assert.Equal(0, T.ErrorCode(client.ChannelBind(0x4001, Peer)));
        Assert.Equal(1, server.Counters.Channels);
        Assert.Equal(1, server.Counters.Permissions); // ChannelBind installs the permission

        var payload = new byte[] { 1, 2, 3, 4, 5 };
        var (action, output, from, to) = client.Send(TurnTestClient.ChannelData(0x4001, payload, pad: transport != TurnTransport.Udp));
        Assert.Equal(TurnAction.ToPeer, action);
        Assert.Equal(payload, output);
        Assert.Equal(relay, from);
        Assert.Equal(Peer, to);

        var back = new byte[64];
        Assert.Equal(TurnAction.ToClient, server.HandlePeerDatagram(relay, Peer, payload, _clock.Now, back, out int length, out _));
        // RFC 8656 §12.5: padded to 4 on TCP/TLS, not on UDP.
        Assert.Equal(transport == TurnTransport.Udp ? 9 : 12, length);
        Assert.Equal(new byte[] { 0x40, 0x01, 0, 5, 1, 2, 3, 4, 5 }, back[..9]);
        if (transport != TurnTransport.Udp)
            Assert.Equal(new byte[3], back[9..12]);

        // An unbound channel, a reserved one, and a truncated message are dropped.
        Assert.Equal(TurnAction.None, client.Send(TurnTestClient.ChannelData(0x4002, payload)).Action);
        Assert.Equal(TurnAction.None, client.Send(TurnTestClient.ChannelData(0x5000, payload)).Action);
        Assert.Equal(TurnAction.None, client.Send(TurnTestClient.ChannelData(0x4001, payload)[..7]).Action);
        Assert.Equal(1, server.Counters[TurnDropReason.NoChannel]);
        Assert.Equal(2, server.Counters[TurnDropReason.Malformed]);
    }

    [Fact]
    public void ChannelBind_Rules()
    {
        var (server, client, relay) = Allocated();
        Assert.Equal(400, T.ErrorCode(client.ChannelBind(0x3FFF, Peer)));
        Assert.Equal(400, T.ErrorCode(client.ChannelBind(0x5000, Peer)));
        Assert.Equal(400, T.ErrorCode(client.Request(StunMethod.ChannelBind, (ref StunMessageWriter w) => w.AddChannelNumber(0x4000))));
        Assert.Equal(0, T.ErrorCode(client.ChannelBind(0x4000, Peer)));
        // The same channel to another peer, and the same peer on another channel, are refused.
        Assert.Equal(400, T.ErrorCode(client.ChannelBind(0x4000, T.A("203.0.113.51:1"))));
        Assert.Equal(400, T.ErrorCode(client.ChannelBind(0x4FFF, Peer)));
        Assert.Equal(403, T.ErrorCode(client.ChannelBind(0x4FFF, T.A("10.0.0.1:1"))));

        // Rebinding refreshes: bound at 0 s, rebound at 500 s, still there at 1000 s.
        client.Refresh(3600);
        _clock.Advance(500);
        Assert.Equal(0, T.ErrorCode(client.ChannelBind(0x4000, Peer)));
        _clock.Advance(500);
        server.HandleTimeout(_clock.Now);
        Assert.Equal(1, server.Counters.Channels);
        // The permission (300 s) was refreshed by the rebind at 500 s and ran out at 800 s.
        Assert.Equal(TurnAction.None, client.Send(TurnTestClient.ChannelData(0x4000, new byte[4])).Action);
        Assert.Equal(1, server.Counters[TurnDropReason.NoPermission]);
        client.CreatePermission(Peer);
        Assert.Equal(TurnAction.ToPeer, client.Send(TurnTestClient.ChannelData(0x4000, new byte[4])).Action);

        _clock.Advance(101); // 1101 s: the channel bound at 500 s for 600 s is gone
        server.HandleTimeout(_clock.Now);
        Assert.Equal(0, server.Counters.Channels);
        Assert.Equal(TurnAction.None, client.Send(TurnTestClient.ChannelData(0x4000, new byte[4])).Action);
        // The peer's datagrams now arrive as Data indications.
        var back = new byte[128];
        Assert.Equal(TurnAction.ToClient, server.HandlePeerDatagram(relay, Peer, new byte[4], _clock.Now, back, out int length, out _));
        Assert.True(StunMessageView.TryRead(back.AsSpan(0, length), out var m));
        Assert.Equal(StunMethod.Data, m.Method);

        // For 5 minutes after expiry the number and the peer stay paired (RFC 8656 §12).
        var otherPeer = T.A("203.0.113.51:1");
        Assert.Equal(400, T.ErrorCode(client.ChannelBind(0x4000, otherPeer)));
        Assert.Equal(400, T.ErrorCode(client.ChannelBind(0x4001, Peer)));
        _clock.Advance(300);
        server.HandleTimeout(_clock.Now);
        Assert.Equal(0, T.ErrorCode(client.ChannelBind(0x4000, otherPeer)));
        Assert.Equal(0, T.ErrorCode(client.ChannelBind(0x4001, Peer)));
        Assert.Equal(2, server.Counters.Channels);
    }

    [Fact]
    public void ExpiredChannel_CanBeReboundToItsOwnPeerDuringCooldown()
    {
        var (server, client, _) = Allocated();
        client.Refresh(3600);
        Assert.Equal(0, T.ErrorCode(client.ChannelBind(0x4000, Peer)));
        _clock.Advance(601);
        server.HandleTimeout(_clock.Now);
        Assert.Equal(0, server.Counters.Channels);
        Assert.Equal(0, T.ErrorCode(client.ChannelBind(0x4000, Peer)));
        Assert.Equal(1, server.Counters.Channels);
        Assert.Equal(TurnAction.ToPeer, client.Send(TurnTestClient.ChannelData(0x4000, new byte[4])).Action);
        Assert.Equal(0, T.ErrorCode(client.Refresh(0)));
        Assert.Equal(0, server.Counters.Channels);
        Assert.Equal(0, server.Counters.Permissions);
    }

    [Fact]
    public void Permission_ExpiresAfter300Seconds()
    {
        var (server, client, relay) = Allocated();
        client.CreatePermission(Peer);
        _clock.Advance(299);
        Assert.Equal(TurnAction.ToPeer, client.Send(client.SendIndication(Peer, new byte[1])).Action);
        _clock.Advance(2);
        Assert.Equal(TurnAction.None, client.Send(client.SendIndication(Peer, new byte[1])).Action);
        Assert.Equal(TurnAction.None, server.HandlePeerDatagram(relay, Peer, new byte[1], _clock.Now, new byte[64], out _, out _));
        server.HandleTimeout(_clock.Now);
        Assert.Equal(0, server.Counters.Permissions);
        Assert.Equal(1, server.AllocationCount);
    }

    [Fact]
    public void Indications_FromAnotherFiveTuple_AreDropped()
    {
        var (server, client, _) = Allocated();
        client.CreatePermission(Peer);
        var stranger = new TurnTestClient(server, _clock, T.Tuple("203.0.113.99:50000"));
        Assert.Equal(TurnAction.None, stranger.Send(stranger.SendIndication(Peer, new byte[4])).Action);
        client.ChannelBind(0x4000, Peer);
        Assert.Equal(TurnAction.None, stranger.Send(TurnTestClient.ChannelData(0x4000, new byte[4])).Action);
        Assert.Equal(2, server.Counters[TurnDropReason.NoAllocation]);
    }

    [Fact]
    public void BandwidthCap_DropsAndCountsTheExcess()
    {
        var (server, client, relay) = Allocated(configure: o => o.MaxBytesPerSecondPerAllocation = 1000);
        client.ChannelBind(0x4000, Peer);
        var packet = TurnTestClient.ChannelData(0x4000, new byte[400]);
        int passed = 0;
        for (int i = 0; i < 5; i++)
            if (client.Send(packet).Action == TurnAction.ToPeer)
                passed++;
        Assert.Equal(2, passed); // a 1000-byte bucket
        Assert.Equal(3, server.Counters[TurnDropReason.BandwidthExceeded]);
        // Both directions draw on it.
        Assert.Equal(TurnAction.None, server.HandlePeerDatagram(relay, Peer, new byte[400], _clock.Now, new byte[512], out _, out _));
        _clock.Advance(0.4); // 400 bytes come back
        Assert.Equal(TurnAction.ToClient, server.HandlePeerDatagram(relay, Peer, new byte[400], _clock.Now, new byte[512], out _, out _));
        Assert.Equal(TurnAction.None, client.Send(packet).Action);
        // Small steps add up: 100 steps of 4 ms refill 400 bytes.
        for (int i = 0; i < 100; i++)
            _clock.Advance(0.004);
        Assert.Equal(TurnAction.ToPeer, client.Send(packet).Action);
    }

    [Fact]
    public void NextTimeout_CoversPermissionsAndChannels()
    {
        var (server, client, _) = Allocated();
        long start = _clock.Now;
        client.CreatePermission(Peer);
        Assert.Equal(start + 300_000_000, server.NextTimeoutMicros);
        _clock.Advance(300);
        server.HandleTimeout(_clock.Now);
        Assert.Equal(0, server.Counters.Permissions);
        Assert.Equal(start + 600_000_000, server.NextTimeoutMicros);
    }
}
