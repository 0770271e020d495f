using Engine.Rtp.Sdp;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>Bad input is rejected with the line number and a reason that names the problem.</summary>
public class SdpParseErrorTests
{
    private const string Head = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    private const string Video = "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n";

    [Theory]
    // line 1
    [InlineData("", 0, "no v= line")]
    [InlineData("o=- 1 2 IN IP4 127.0.0.1\r\n", 1, "first line must be v=0")]
    [InlineData("v=1\r\n", 1, "unsupported SDP version")]
    [InlineData("hello world", 1, "expected '<type>=<value>'")]
    [InlineData("V=0\r\n", 1, "expected '<type>=<value>'")]
    // session level
    [InlineData("v=0\r\no=- 1 2 IN IP4\r\n", 2, "o= needs")]
    [InlineData("v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n", 3, "o= must come before")]
    [InlineData("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", 0, "missing s= line")]
    [InlineData(Head + "t=0 0\r\n", 5, "only one t= line")]
    [InlineData(Head + "x=unknown\r\n", 5, "unknown line type 'x='")]
    [InlineData("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=zero 0\r\n", 4, "t= needs")]
    [InlineData(Head + "a=group\r\n", 5, "a=group needs a semantics token")]
    [InlineData(Head + "a=group:BUNDLE 0 0\r\n", 5, "listed twice")]
    [InlineData(Head + "a=ice-lite:yes\r\n", 5, "a=ice-lite takes no value")]
    [InlineData(Head + "a=sendonly\r\na=inactive\r\n", 6, "more than one direction")]
    [InlineData(Head + "a=setup:server\r\n", 5, "a=setup must be active, passive, actpass or holdconn")]
    [InlineData(Head + "a=fingerprint:sha-256 8A:DE\r\n", 5, "sha-256 digest has 2 bytes, expected 32")]
    [InlineData(Head + "a=fingerprint:sha-256 8A:DG\r\n", 5, "not colon-separated hex")]
    [InlineData(Head + "a=ice-ufrag:abc\r\n", 5, "4-256 ice-chars")]
    [InlineData(Head + "a=ice-pwd:short\r\n", 5, "22-256 ice-chars")]
    [InlineData(Head + "a=\r\n", 5, "attribute has no name")]
    [InlineData(Head + "a=bad name:1\r\n", 5, "is not a token")]
    [InlineData(Head + "a=msid-semantic:\r\n", 5, "msid-semantic needs")]
    [InlineData(Head + "a=x\0y\r\n", 5, "control character 0x00")]
    // m= line
    [InlineData(Head + "m=video 9\r\n", 5, "m= needs")]
    [InlineData(Head + "m=video 70000 RTP/AVP 96\r\n", 5, "port '70000' is not 0-65535")]
    [InlineData(Head + "m=video 9/0 RTP/AVP 96\r\n", 5, "port count")]
    [InlineData(Head + "m=video 9 RTP/AVP 128\r\n", 5, "payload type '128' is not 0-127")]
    [InlineData(Head + "m=video 9 RTP/AVP 96 96\r\n", 5, "payload type 96 is listed twice")]
    [InlineData(Head + "m=video 9 RTP/AVP abc\r\n", 5, "payload type 'abc'")]
    // media level
    [InlineData(Head + Video + "o=- 1 2 IN IP4 1.1.1.1\r\n", 6, "'o=' is not allowed in a media section")]
    [InlineData(Head + Video + "c=IN IP4\r\n", 6, "c= needs")]
    [InlineData(Head + Video + "a=mid:0\r\na=mid:1\r\n", 7, "a=mid appears twice")]
    [InlineData(Head + Video + "a=mid:\r\n", 6, "a=mid needs")]
    [InlineData(Head + Video + "a=sendrecv\r\na=recvonly\r\n", 7, "more than one direction")]
    [InlineData(Head + Video + "a=rtcp-mux\r\na=rtcp-mux\r\n", 7, "a=rtcp-mux appears twice")]
    [InlineData(Head + Video + "a=rtcp:abc\r\n", 6, "a=rtcp needs a port")]
    [InlineData(Head + Video + "a=rtpmap:96 VP8\r\n", 6, "is not '<name>/<clock rate>")]
    [InlineData(Head + Video + "a=rtpmap:96 VP8/0\r\n", 6, "clock rate '0'")]
    [InlineData(Head + Video + "a=rtpmap:96 opus/48000/x\r\n", 6, "channel count 'x'")]
    [InlineData(Head + Video + "a=rtpmap:96 VP8/90000\r\na=rtpmap:96 VP9/90000\r\n", 7, "a=rtpmap for payload type 96 appears twice")]
    [InlineData(Head + Video + "a=rtpmap:x VP8/90000\r\n", 6, "payload type 'x' is not 0-127")]
    [InlineData(Head + Video + "a=fmtp:96 a=1\r\na=fmtp:96 b=2\r\n", 7, "a=fmtp for payload type 96 appears twice")]
    [InlineData(Head + Video + "a=rtcp-fb:96\r\n", 6, "a=rtcp-fb needs")]
    [InlineData(Head + Video + "a=extmap:0 urn:x\r\n", 6, "extmap id '0' is not 1-255")]
    [InlineData(Head + Video + "a=extmap:1/sideways urn:x\r\n", 6, "extmap direction")]
    [InlineData(Head + Video + "a=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n", 7, "extmap id 1 is used twice")]
    [InlineData(Head + Video + "a=extmap:1\r\n", 6, "a=extmap needs")]
    [InlineData(Head + Video + "a=ssrc:1\r\n", 6, "a=ssrc needs")]
    [InlineData(Head + Video + "a=ssrc:4294967296 cname:x\r\n", 6, "is not a 32-bit number")]
    [InlineData(Head + Video + "a=ssrc-group:FID 1 x\r\n", 6, "ssrc 'x' is not a 32-bit number")]
    [InlineData(Head + Video + "a=msid:a b c\r\n", 6, "a=msid needs")]
    [InlineData(Head + Video + "a=rid:1 both\r\n", 6, "rid direction 'both'")]
    [InlineData(Head + Video + "a=rid:a.b send\r\n", 6, "rid-id 'a.b'")]
    [InlineData(Head + Video + "a=rid:1 send max-width=1;pt=96\r\n", 6, "pt= must come first")]
    [InlineData(Head + Video + "a=rid:1 send pt=96,x\r\n", 6, "rid payload type 'x'")]
    [InlineData(Head + Video + "a=simulcast:send\r\n", 6, "a=simulcast needs")]
    [InlineData(Head + Video + "a=simulcast:both 1;2\r\n", 6, "simulcast direction 'both'")]
    [InlineData(Head + Video + "a=simulcast:send 1;;2\r\n", 6, "simulcast rid ''")]
    [InlineData(Head + Video + "a=simulcast:send 1 send 2\r\n", 6, "simulcast 'send' appears twice")]
    [InlineData(Head + Video + "a=candidate:1 1 udp 1 1.2.3.4 9 host\r\n", 6, "candidate needs")]
    [InlineData(Head + Video + "a=candidate:1 1 udp 1 1.2.3.4 9 type host\r\n", 6, "expected 'typ'")]
    public void Rejects_with_line_and_reason(string text, int line, string reason)
    {
        Assert.False(SessionDescription.TryParse(text, out var sdp, out var error));
        Assert.Null(sdp);
        Assert.Equal(line, error.Line);
        Assert.Contains(reason, error.Reason);
        if (line > 0) Assert.StartsWith($"line {line} (", error.ToString());
    }

    [Fact]
    public void The_quoted_line_is_safe_to_log()
    {
        Assert.False(SessionDescription.TryParse(Head + "a=x\0y\u0007z\r\n", out _, out var error));
        Assert.Equal("a=x?y?z", error.LineText);
        Assert.False(SessionDescription.TryParse(Head + Video + "a=rtcp:" + new string('z', 200) + "\r\n", out _, out error));
        Assert.Equal(83, error.LineText!.Length);
        Assert.EndsWith("...", error.LineText);
    }

    [Fact]
    public void A_leading_byte_order_mark_is_ignored()
    {
        Assert.True(SessionDescription.TryParse("\uFEFF" + Head, out var sdp, out var error), error.ToString());
        Assert.Equal("2", sdp!.Origin.SessionVersion);
    }

    [Fact]
    public void Null_input()
    {
        Assert.False(SessionDescription.TryParse(null, out _, out var error));
        Assert.Contains("null", error.Reason);
    }

    [Fact]
    public void Oversized_input_is_refused_before_parsing()
    {
        string big = Head + string.Concat(Enumerable.Repeat("a=x-filler:0123456789012345678901234567890123456789\r\n", 2000));
        Assert.True(big.Length > SessionDescription.MaxLength);
        Assert.False(SessionDescription.TryParse(big, out _, out var error));
        Assert.Equal(0, error.Line);
        Assert.Contains("over the 65536 limit", error.Reason);
    }

    [Fact]
    public void Too_many_lines_and_m_sections_and_long_lines_are_refused()
    {
        string lines = Head + new string('\n', SessionDescription.MaxLines);
        Assert.False(SessionDescription.TryParse(lines, out _, out var e1));
        Assert.Contains($"more than {SessionDescription.MaxLines} lines", e1.Reason);

        string media = Head + string.Concat(Enumerable.Repeat("m=audio 9 RTP/AVP 0\r\n", SessionDescription.MaxMediaDescriptions + 1));
        Assert.False(SessionDescription.TryParse(media, out _, out var e2));
        Assert.Equal(4 + SessionDescription.MaxMediaDescriptions + 1, e2.Line);
        Assert.Contains("m= sections", e2.Reason);

        string longLine = Head + "a=x-long:" + new string('y', SessionDescription.MaxLineLength) + "\r\n";
        Assert.False(SessionDescription.TryParse(longLine, out _, out var e3));
        Assert.Equal(5, e3.Line);
        Assert.Contains("longer than", e3.Reason);
    }

    [Fact]
    public void Attributes_for_unlisted_payload_types_are_kept_not_rejected()
    {
        string text = Head + Video + "a=rtpmap:120 VP9/90000\r\na=fmtp:120 profile-id=0\r\na=rtcp-fb:120 nack\r\n";
        Assert.True(SessionDescription.TryParse(text, out var sdp, out var error), error.ToString());
        Assert.Equal(3, sdp!.Media[0].Attributes.Count);
        Assert.Null(sdp.Media[0].FindCodec(120));
        Assert.Equal(text, sdp.Write());
    }
}
