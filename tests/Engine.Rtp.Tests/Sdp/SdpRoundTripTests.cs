using Engine.Rtp.Sdp;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>parse -> write -> parse keeps the model, write(parse(x)) is stable, and SDP a
/// browser wrote comes back line for line.</summary>
public class SdpRoundTripTests
{
    public static TheoryData<string> Inputs => new() { "chromium156-offer.sdp", "chromium156-answer.sdp", "SdpSamples.Full" };

    private static string Load(string name) => name == "SdpSamples.Full" ? SdpSamples.Full : Fixtures.ReadText(name);

    private static string Crlf(string text) => text.Replace("\r\n", "\n").Replace("\n", "\r\n");

    private static SessionDescription Parse(string text)
    {
        Assert.True(SessionDescription.TryParse(text, out var sdp, out var error), error.ToString());
        return sdp!;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Write_reproduces_the_input_line_for_line(string name)
    {
        string text = Load(name);
        var written = Parse(text).Write();
        Assert.Equal(Crlf(text).Split("\r\n"), written.Split("\r\n"));
        Assert.EndsWith("\r\n", written);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Parse_write_parse_is_structurally_equal_and_stable(string name)
    {
        string text = Load(name);
        var first = Parse(text);
        var written = first.Write();
        var second = Parse(written);
        SdpStructure.AssertEqual(first, second);
        Assert.Equal(written, second.Write());
    }

    [Fact]
    public void Structural_comparison_notices_a_change()
    {
        // Guards the comparer itself: a round-trip test with a blind comparer could not fail.
        var a = Parse(SdpSamples.Full);
        var b = Parse(SdpSamples.Full);
        b.Media[1].Codecs[2].Parameters[1] = new SdpParameter("packetization-mode", "0");
        Assert.Contains("Parameters[1]", SdpStructure.FindDifference(a, b, "sdp", 0));
        b = Parse(SdpSamples.Full);
        b.Media[0].Candidates[2].Extensions.Clear();
        Assert.NotNull(SdpStructure.FindDifference(a, b, "sdp", 0));
        b = Parse(SdpSamples.Full);
        b.Media[1].Fingerprints[0].Digest[3] ^= 1;
        Assert.NotNull(SdpStructure.FindDifference(a, b, "sdp", 0));
    }

    [Fact]
    public void Lf_endings_and_stray_blanks_parse_like_crlf()
    {
        string crlf = Fixtures.ReadText("chromium156-offer.sdp");
        string lf = crlf.Replace("\r\n", "\n");
        string messy = string.Join("\n", lf.Split('\n').Select((l, i) => i % 3 == 0 ? "  " + l + " \t" : l + "\r")) + "\n\n";
        var reference = Parse(Crlf(crlf));
        SdpStructure.AssertEqual(reference, Parse(lf));
        SdpStructure.AssertEqual(reference, Parse(messy));
        Assert.Equal(reference.Write(), Parse(messy).Write());
    }

    [Fact]
    public void Unknown_attributes_keep_their_relative_order()
    {
        var sdp = Parse(SdpSamples.Full);
        Assert.Equal(new[] { new SdpAttribute("x-session-unknown", "keep me"), new SdpAttribute("x-session-flag", null) }, sdp.Attributes);
        Assert.Equal(
            new[] { "x-first-unknown", "x-second-unknown", "x-third-unknown" },
            sdp.Media[0].Attributes.Select(a => a.Name));
        Assert.Equal("3 with spaces", sdp.Media[0].FindAttribute("x-third-unknown")!.Value);
        Assert.Equal(new[] { new SdpAttribute("sctp-port", "5000"), new SdpAttribute("max-message-size", "262144") }, sdp.Media[2].Attributes);

        // Unknown attributes interleaved with known ones come back in the same relative order.
        string moved = SdpSamples.Full.Replace("a=x-first-unknown:1\r\n", "").Replace("a=mid:a\r\n", "a=x-first-unknown:1\r\na=mid:a\r\n");
        var again = Parse(Parse(moved).Write());
        Assert.Equal(
            new[] { "x-first-unknown", "x-second-unknown", "x-third-unknown" },
            again.Media[0].Attributes.Select(a => a.Name));
    }

    [Fact]
    public void Other_lines_are_written_in_rfc8866_order()
    {
        // RFC 8866 §5: ... s i u e p c b t r z k a, and m i c b k a.
        string text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nb=AS:1\r\nt=0 0\r\nk=prompt\r\ni=info\r\nu=http://x\r\n" +
                      "m=audio 9 RTP/AVP 0\r\nb=AS:2\r\nk=clear:x\r\ni=media info\r\nc=IN IP4 0.0.0.0\r\n";
        var sdp = Parse(text);
        Assert.Equal("iubk", new string(sdp.OtherLines.Select(l => l.Type).ToArray()));
        Assert.Equal(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\ni=info\r\nu=http://x\r\nb=AS:1\r\nt=0 0\r\nk=prompt\r\n" +
            "m=audio 9 RTP/AVP 0\r\ni=media info\r\nc=IN IP4 0.0.0.0\r\nb=AS:2\r\nk=clear:x\r\n",
            sdp.Write());
    }

    [Fact]
    public void A_model_built_in_code_writes_parseable_sdp()
    {
        // What a server does when it answers: build the model, write it, the peer parses it.
        var answer = new SessionDescription { IceLite = true, Setup = SdpSetupRole.Passive };
        answer.Groups.Add(new SdpGroup("BUNDLE", ["0"]));
        answer.Fingerprints.Add(new SdpFingerprint("sha-256", Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        var m = new MediaDescription("video", 9, "UDP/TLS/RTP/SAVPF")
        {
            Connection = new SdpConnection("IN", "IP4", "0.0.0.0"),
            Mid = "0",
            Direction = SdpDirection.RecvOnly,
            RtcpMux = true,
            IceUfrag = "srvr",
            IcePwd = "0123456789abcdefghijkl",
        };
        var h264 = new RtpCodec(102, "H264", 90000);
        h264.Parameters.Add(new SdpParameter("packetization-mode", "1"));
        h264.Parameters.Add(new SdpParameter("profile-level-id", "42e01f"));
        h264.Feedback.Add(new SdpRtcpFeedback("nack", "pli"));
        var rtx = new RtpCodec(103, "rtx", 90000);
        rtx.Parameters.Add(new SdpParameter("apt", "102"));
        m.Codecs.Add(h264);
        m.Codecs.Add(rtx);
        m.Candidates.Add(new IceCandidate { Foundation = "1", Priority = 2130706431, Address = "198.51.100.1", Port = 443 });
        answer.Media.Add(m);

        string text = answer.Write();
        Assert.Contains("m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\n", text);
        Assert.Contains("a=fmtp:102 packetization-mode=1;profile-level-id=42e01f\r\n", text);
        Assert.Contains("a=candidate:1 1 udp 2130706431 198.51.100.1 443 typ host\r\n", text);
        var back = Parse(text);
        SdpStructure.AssertEqual(answer, back);
        Assert.Equal(103, back.Media[0].FindRtxPayloadType(102));
        Assert.Equal(new[] { "0" }, back.BundleMids);
    }
}
