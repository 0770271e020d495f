using Engine.Rtp.Sdp;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>The example session description of RFC 8866 §5.</summary>
public class Rfc8866Tests
{
    private const string Example =
        "v=0\r\n" +
        "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n" +
        "s=Call to John Smith\r\n" +
        "i=SDP Offer #1\r\n" +
        "u=http://www.jdoe.example.com/home.html\r\n" +
        "e=Jane Doe <jane@jdoe.example.com>\r\n" +
        "p=+1 617 555-6011\r\n" +
        "c=IN IP4 198.51.100.1\r\n" +
        "t=0 0\r\n" +
        "m=audio 49170 RTP/AVP 0\r\n" +
        "m=audio 49180 RTP/AVP 0\r\n" +
        "m=video 51372 RTP/AVP 99\r\n" +
        "c=IN IP6 2001:db8::2\r\n" +
        "a=rtpmap:99 h263-1998/90000\r\n";

    [Fact]
    public void Parses_the_example()
    {
        Assert.True(SessionDescription.TryParse(Example, out var sdp, out var error), error.ToString());
        Assert.Equal(new SdpOrigin("jdoe", "3724394400", "3724394405", "IN", "IP4", "198.51.100.1"), sdp!.Origin);
        Assert.Equal("Call to John Smith", sdp.SessionName);
        Assert.Equal("iuep", new string(sdp.OtherLines.Select(l => l.Type).ToArray()));
        Assert.Equal("Jane Doe <jane@jdoe.example.com>", sdp.OtherLines[2].Value);
        Assert.Equal(new SdpConnection("IN", "IP4", "198.51.100.1"), sdp.Connection);
        Assert.Equal(3, sdp.Media.Count);
        Assert.Equal(new[] { 49170, 49180, 51372 }, sdp.Media.Select(m => m.Port));
        Assert.Null(sdp.Media[0].Connection);
        Assert.Equal(new SdpConnection("IN", "IP6", "2001:db8::2"), sdp.Media[2].Connection);
        var h263 = Assert.Single(sdp.Media[2].Codecs);
        Assert.Equal((99, "h263-1998", 90000), (h263.PayloadType, h263.Name, h263.ClockRate));
        Assert.Null(sdp.Media[0].Codecs[0].Name);
        Assert.Empty(sdp.BundleMids);
        Assert.Null(sdp.BundleGroup);
    }

    [Fact]
    public void Writes_the_example_back_unchanged()
    {
        Assert.True(SessionDescription.TryParse(Example, out var sdp, out _));
        Assert.Equal(Example, sdp!.Write());
    }
}
