using Engine.Ice.Turn;

namespace Engine.Ice.Tests.Turn;

public class TurnPeerPolicyTests
{
    private readonly TestClock _clock = new();
    private readonly FakeRelayPortAllocator _ports = new();

    public static TheoryData<string> Denied => new()
    {
        "127.0.0.1:5000", "127.255.255.254:5000", "[::ffff:127.0.0.1]:5000", "[::ffff:10.0.0.1]:5000",
        "[::1]:5000", "[::]:5000", "0.0.0.0:5000", "0.1.2.3:5000", "[::ffff:0.0.0.0]:5000",
        "169.254.169.254:80", "[::ffff:169.254.169.254]:80", "10.1.2.3:5000", "172.16.0.1:5000", "172.31.255.255:5000",
        "192.168.1.1:5000", "100.64.0.1:5000", "100.127.255.255:5000", "224.0.0.1:5000", "239.255.255.250:1900",
        "240.0.0.1:5000", "255.255.255.255:5000", "[fc00::1]:5000", "[fd12:3456::1]:5000", "[fe80::1]:5000",
        "[ff02::1]:5000", "[::127.0.0.1]:5000", "[64:ff9b::7f00:1]:5000", "[64:ff9b::a9fe:a9fe]:80",
        "[2002:7f00:1::1]:5000", "[2002:a00:1::1]:5000",
    };

    private TurnTestClient DualClient(Action<TurnServerOptions>? configure = null)
    {
        var o = T.Options();
        configure?.Invoke(o);
        var server = new TurnServer(o, _ports);
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));
        // Both families, so a refusal is 403 for the address and not 443 for its family.
        client.AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 2, 0, 0, 0 }));
        return client;
    }

    [Theory]
    [MemberData(nameof(Denied))]
    public void DeniedPeer_Is403OnCreatePermissionAndChannelBind_AndSendIsDropped(string peerText)
    {
        var client = DualClient();
        var peer = T.A(peerText);
        Assert.False(client.Server.IsPeerAllowed(peer));
        Assert.Equal(403, T.ErrorCode(client.CreatePermission(peer)));
        Assert.Equal(403, T.ErrorCode(client.ChannelBind(0x4000, peer)));
        Assert.Equal(0, client.Server.Counters.Permissions);
        Assert.Equal(0, client.Server.Counters.Channels);

        long before = client.Server.Counters[TurnDropReason.ForbiddenPeer];
        var (action, output, _, _) = client.Send(client.SendIndication(peer, new byte[] { 1 }));
        Assert.Equal(TurnAction.None, action);
        Assert.Empty(output);
        Assert.Equal(before + 1, client.Server.Counters[TurnDropReason.ForbiddenPeer]);
        Assert.Equal(0, client.Server.Counters.PacketsToPeer);
    }

    [Theory]
    [InlineData("203.0.113.5:5000")]
    [InlineData("[::ffff:203.0.113.5]:5000")]
    [InlineData("[2001:db8::1]:5000")]
    [InlineData("8.8.8.8:53")]
    [InlineData("[64:ff9b::808:808]:53")]
    public void PublicPeer_IsAllowed(string peerText)
    {
        var client = DualClient();
        var peer = T.A(peerText);
        Assert.Equal(0, T.ErrorCode(client.CreatePermission(peer)));
        var (action, _, relay, to) = client.Send(client.SendIndication(peer, new byte[] { 1 }));
        Assert.Equal(TurnAction.ToPeer, action);
        Assert.Equal(peer.UnmapIPv4(), to);
        Assert.Equal(to.IsIPv6, relay.IsIPv6);
    }

    [Theory]
    [InlineData("127.0.0.1:5000")]
    [InlineData("[::ffff:127.0.0.1]:5000")]
    [InlineData("[::1]:5000")]
    public void AllowedPeerRanges_AreExceptions(string peerText)
    {
        var client = DualClient(o =>
        {
            o.AllowedPeerRanges.Add(TurnIpRange.Parse("127.0.0.0/8"));
            o.AllowedPeerRanges.Add(TurnIpRange.Parse("::1"));
        });
        var peer = T.A(peerText);
        Assert.Equal(0, T.ErrorCode(client.CreatePermission(peer)));
        Assert.Equal(0, T.ErrorCode(client.ChannelBind(0x4000, peer)));
        Assert.Equal(TurnAction.ToPeer, client.Send(TurnTestClient.ChannelData(0x4000, new byte[4])).Action);
        // The exception is that range only.
        Assert.Equal(403, T.ErrorCode(client.CreatePermission(T.A("10.0.0.1:1"))));
    }

    [Fact]
    public void DeniedPeerRanges_AddToTheDefaults()
    {
        var client = DualClient(o =>
        {
            o.DeniedPeerRanges.Add(TurnIpRange.Parse("203.0.113.0/24"));
            o.DeniedPeerRanges.Add(TurnIpRange.Parse("::ffff:198.51.100.0/120"));
        });
        Assert.Equal(403, T.ErrorCode(client.CreatePermission(T.A("203.0.113.9:1"))));
        Assert.Equal(403, T.ErrorCode(client.CreatePermission(T.A("[::ffff:203.0.113.9]:1"))));
        Assert.Equal(403, T.ErrorCode(client.CreatePermission(T.A("198.51.100.20:1"))));
        Assert.Equal(0, T.ErrorCode(client.CreatePermission(T.A("203.0.114.9:1"))));
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.255.1.1", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.0.0.1", true)]
    [InlineData("::ffff:10.0.0.0/104", "10.9.9.9", true)]
    [InlineData("fe80::/10", "febf::1", true)]
    [InlineData("fe80::/10", "fec0::1", false)]
    [InlineData("::1", "::1", true)]
    [InlineData("::1", "::2", false)]
    [InlineData("2001:db8::/127", "2001:db8::1", true)]
    [InlineData("2001:db8::/127", "2001:db8::2", false)]
    [InlineData("0.0.0.0/0", "1.2.3.4", true)]
    [InlineData("0.0.0.0/0", "::1", false)]
    public void IpRange_Contains(string range, string address, bool expected)
    {
        var r = TurnIpRange.Parse(range);
        Assert.Equal(expected, r.Contains(T.A(address.Contains(':') ? $"[{address}]:1" : $"{address}:1")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("not-an-ip")]
    [InlineData("::/129")]
    public void IpRange_RejectsBadText(string text) => Assert.False(TurnIpRange.TryParse(text, out _));
}
