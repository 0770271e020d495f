using Engine.Rtp.Sdp;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>RFC 8839 §5.1 candidate-attribute, in the forms browsers send.</summary>
public class IceCandidateTests
{
    [Theory]
    [InlineData("candidate:1 1 UDP 2130706431 10.0.1.1 8998 typ host")]
    [InlineData("candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998")]
    [InlineData("candidate:3497201597 1 udp 2113937151 4f2d6a5c-2e11-4c8b-9b1c-6d6a1f0e7a22.local 54400 typ host generation 0 network-cost 999")]
    [InlineData("candidate:842163049 1 tcp 1518280447 2001:db8::1 9 typ host tcptype passive generation 0 ufrag EsAw network-id 2")]
    [InlineData("candidate:4 2 udp 41885439 198.51.100.9 3478 typ relay raddr 0.0.0.0 rport 0 generation 0")]
    public void Parses_and_writes_back(string text)
    {
        Assert.True(IceCandidate.TryParse(text, out var c, out string reason), reason);
        Assert.Equal(text, c!.ToString());
        Assert.True(IceCandidate.TryParse("a=" + text, out var withPrefix, out _));
        Assert.Equal(text, withPrefix!.ToString());
        Assert.True(IceCandidate.TryParse(text["candidate:".Length..], out var bare, out _));
        Assert.Equal(text, bare!.ToString());
    }

    [Fact]
    public void Fields_of_a_server_reflexive_candidate()
    {
        // RFC 8839 §5.1 example shape: foundation component transport priority address port typ type raddr rport
        Assert.True(IceCandidate.TryParse("candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998", out var c, out _));
        Assert.Equal("2", c!.Foundation);
        Assert.Equal(1, c.Component);
        Assert.Equal("UDP", c.Transport);
        Assert.Equal(1694498815u, c.Priority);
        Assert.Equal("192.0.2.3", c.Address);
        Assert.Equal(45664, c.Port);
        Assert.Equal("srflx", c.Type);
        Assert.Equal("10.0.1.1", c.RelatedAddress);
        Assert.Equal(8998, c.RelatedPort);
        Assert.Null(c.Generation);
        Assert.Empty(c.Extensions);
    }

    [Fact]
    public void Unknown_extensions_are_kept_in_order()
    {
        Assert.True(IceCandidate.TryParse("candidate:1 1 udp 1 1.2.3.4 5 typ host zeta 1 alpha two", out var c, out _));
        Assert.Equal(new[] { new SdpParameter("zeta", "1"), new SdpParameter("alpha", "two") }, c!.Extensions);
    }

    [Theory]
    [InlineData(null, "missing")]
    [InlineData("", "candidate needs")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 5 typ", "candidate needs")]
    [InlineData("candidate:f!o 1 udp 1 1.2.3.4 5 typ host", "foundation")]
    [InlineData("candidate:123456789012345678901234567890123 1 udp 1 1.2.3.4 5 typ host", "foundation")]
    [InlineData("candidate:1 0 udp 1 1.2.3.4 5 typ host", "component '0'")]
    [InlineData("candidate:1 257 udp 1 1.2.3.4 5 typ host", "component '257'")]
    [InlineData("candidate:1 1 udp 4294967296 1.2.3.4 5 typ host", "priority")]
    [InlineData("candidate:1 1 udp -1 1.2.3.4 5 typ host", "priority")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 65536 typ host", "port '65536'")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 5 typo host", "expected 'typ'")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 5 typ host raddr", "has no value")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.1.1.1 rport x", "rport 'x'")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 5 typ host generation 0 generation 1", "'generation' appears twice")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 5 typ host network-cost high", "network-cost 'high'")]
    public void Rejects_bad_candidates(string? text, string reason)
    {
        Assert.False(IceCandidate.TryParse(text, out var c, out string why));
        Assert.Null(c);
        Assert.Contains(reason, why);
    }
}
