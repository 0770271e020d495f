using Engine.Rtp.Sdp;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>The Chromium 156 offer and answer (tests/fixtures) parse, and every value a server
/// needs is reachable.</summary>
public class SdpFixtureTests
{
    private static SessionDescription Parse(string fixture)
    {
        bool ok = SessionDescription.TryParse(Fixtures.ReadText(fixture), out var sdp, out var error);
        Assert.True(ok, error.ToString());
        return sdp!;
    }

    [Fact]
    public void Offer_session_level()
    {
        var sdp = Parse("chromium156-offer.sdp");
        Assert.Equal(new SdpOrigin("-", "573935661788986081", "2", "IN", "IP4", "127.0.0.1"), sdp.Origin);
        Assert.Equal("-", sdp.SessionName);
        Assert.Equal(0ul, sdp.StartTime);
        Assert.Equal(0ul, sdp.StopTime);
        // RFC 8843 §7: BUNDLE group lists the mids
        Assert.Equal(new[] { "0", "1" }, sdp.BundleMids);
        Assert.True(sdp.ExtmapAllowMixed);
        Assert.False(sdp.IceLite);
        Assert.Equal("WMS", sdp.MsidSemantic);
        Assert.Equal(new[] { "c5740095-7572-4a67-bc6e-85705f61d05e" }, sdp.MsidSemanticStreamIds);
        Assert.Empty(sdp.Attributes);
        Assert.Equal(2, sdp.Media.Count);
    }

    [Fact]
    public void Offer_audio_section()
    {
        var sdp = Parse("chromium156-offer.sdp");
        var a = sdp.Media[0];
        Assert.Equal("audio", a.Media);
        Assert.Equal(9, a.Port);
        Assert.Equal("UDP/TLS/RTP/SAVPF", a.Protocol);
        Assert.True(a.IsRtp);
        Assert.Equal(new[] { 111, 63, 9, 0, 8, 13, 110, 126 }, a.Codecs.Select(c => c.PayloadType));
        Assert.Equal(new SdpConnection("IN", "IP4", "0.0.0.0"), a.Connection);
        Assert.Equal("9 IN IP4 0.0.0.0", a.Rtcp);
        Assert.Equal("0", a.Mid);
        Assert.Same(a, sdp.FindMedia("0"));
        Assert.Equal(SdpDirection.SendRecv, a.Direction);
        Assert.True(a.RtcpMux);
        Assert.True(a.RtcpReducedSize);
        Assert.Equal("xxcb", a.IceUfrag);
        Assert.Equal("n/2TSotsQp3jMAJGDUiT+yQa", a.IcePwd);
        Assert.Equal(new[] { "trickle" }, a.IceOptions);
        Assert.Equal(SdpSetupRole.ActPass, a.Setup);

        var fp = Assert.Single(a.Fingerprints);
        Assert.Equal("sha-256", fp.Algorithm);
        Assert.Equal(32, fp.Digest.Length);
        Assert.Equal(0x8A, fp.Digest[0]);
        Assert.Equal(0x06, fp.Digest[31]);
        Assert.Equal("8A:DE:2B:A9:18:45:9E:B6:98:0D:A0:64:AB:9E:01:0C:A6:4A:9D:DD:DF:5B:4B:CC:63:16:47:A7:D6:DB:A0:06", fp.FormatDigest());

        var opus = a.FindCodec(111)!;
        Assert.Equal("opus", opus.Name);
        Assert.Equal(48000, opus.ClockRate);
        Assert.Equal(2, opus.Channels);
        Assert.Equal(new[] { new SdpParameter("minptime", "10"), new SdpParameter("useinbandfec", "1") }, opus.Parameters);
        Assert.Equal("1", opus.GetParameter("useinbandfec"));
        Assert.Equal(new[] { new SdpRtcpFeedback("transport-cc", null) }, opus.Feedback);
        Assert.Same(opus.Parameters, a.GetFmtp(111));

        var red = a.FindCodec(63)!;
        Assert.Equal("red", red.Name);
        Assert.Equal(new[] { new SdpParameter("111/111", null) }, red.Parameters);

        var pcmu = a.FindCodec(0)!;
        Assert.Equal("PCMU", pcmu.Name);
        Assert.Equal(8000, pcmu.ClockRate);
        Assert.Null(pcmu.Channels);
        Assert.Empty(pcmu.Parameters);
        Assert.Equal(8000, a.FindCodec(126)!.ClockRate);
        Assert.Equal("telephone-event", a.FindCodec(110)!.Name);
        Assert.Null(a.FindCodec(96));
        Assert.Null(a.GetFmtp(96));

        Assert.Equal(
            new[]
            {
                new SdpExtmap(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
                new SdpExtmap(2, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
                new SdpExtmap(3, "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
                new SdpExtmap(4, "urn:ietf:params:rtp-hdrext:sdes:mid"),
            },
            a.Extmaps);

        Assert.Equal(new SdpMsid("c5740095-7572-4a67-bc6e-85705f61d05e", "8faf9f67-65b1-4106-8c97-37947ca5666f"), Assert.Single(a.Msids));
        var ssrc = Assert.Single(a.Ssrcs);
        Assert.Equal(2308255091u, ssrc.Ssrc);
        Assert.Equal("xemP6p/gvR4PalOo", ssrc.Cname);
        Assert.Equal("c5740095-7572-4a67-bc6e-85705f61d05e 8faf9f67-65b1-4106-8c97-37947ca5666f", ssrc.Msid);
        Assert.Empty(a.SsrcGroups);

        // a=rtcp-xr is not modelled: it is kept verbatim.
        Assert.Equal(new SdpAttribute("rtcp-xr", "rcvr-rtt=all"), Assert.Single(a.Attributes));
    }

    [Theory]
    [InlineData(102, 1, 0x42, 0x00, 0x1f)]
    [InlineData(104, 0, 0x42, 0x00, 0x1f)]
    [InlineData(108, 1, 0x42, 0xe0, 0x1f)]
    [InlineData(114, 0, 0x42, 0xe0, 0x1f)]
    [InlineData(116, 1, 0x4d, 0x00, 0x1f)]
    [InlineData(39, 0, 0x4d, 0x00, 0x1f)]
    public void Offer_h264_payload_types(int pt, int packetizationMode, int profileIdc, int profileIop, int levelIdc)
    {
        var video = Parse("chromium156-offer.sdp").Media[1];
        var c = video.FindCodec(pt)!;
        Assert.Equal("H264", c.Name);
        Assert.True(c.IsNamed("h264"));
        Assert.Equal(90000, c.ClockRate);
        Assert.Null(c.Channels);
        Assert.Equal(packetizationMode, c.H264PacketizationMode);
        Assert.True(c.TryGetH264ProfileLevelId(out byte idc, out byte iop, out byte level));
        Assert.Equal((profileIdc, profileIop, levelIdc), (idc, iop, level));
        Assert.Equal("1", c.GetParameter("level-asymmetry-allowed"));
        Assert.Equal(
            new[] { "goog-remb", "transport-cc", "ccm fir", "nack", "nack pli" },
            c.Feedback.Select(f => f.ToString()));
        // The capture carries no rtx payload types, so no apt= link exists for these.
        Assert.Null(video.FindRtxPayloadType(pt));
    }

    [Fact]
    public void Offer_video_section()
    {
        var sdp = Parse("chromium156-offer.sdp");
        var v = sdp.Media[1];
        Assert.Equal("video", v.Media);
        Assert.Equal("1", v.Mid);
        Assert.Equal(new[] { 102, 104, 108, 114, 116, 39 }, v.Codecs.Select(c => c.PayloadType));
        Assert.Equal(
            new[] { 14, 2, 13, 3, 5, 6, 7, 8, 4, 10, 11 },
            v.Extmaps.Select(e => e.Id));
        Assert.Equal(10, v.FindExtmap("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")!.Id);
        Assert.Equal(11, v.FindExtmap("urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id")!.Id);
        Assert.Equal(3, v.FindExtmap("http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01")!.Id);
        Assert.Equal(SdpDirection.None, v.FindExtmap("urn:3gpp:video-orientation")!.Direction);
        Assert.Equal(3602205270u, Assert.Single(v.Ssrcs).Ssrc);
        Assert.Equal("xemP6p/gvR4PalOo", v.FindSsrc(3602205270)!.Cname);
        Assert.Equal("903f2e1d-7d6a-4aa0-92b8-9ab74cf79757", Assert.Single(v.Msids).TrackId);
        Assert.Equal(SdpSetupRole.ActPass, sdp.SetupFor(v));
        Assert.Equal("xxcb", sdp.IceUfragFor(v));
        Assert.Equal(v.Fingerprints, sdp.FingerprintsFor(v));
        Assert.Empty(v.Rids);
        Assert.Null(v.Simulcast);
        Assert.Empty(v.Candidates);
    }

    [Fact]
    public void Answer_values()
    {
        var sdp = Parse("chromium156-answer.sdp");
        Assert.Equal("2916730993684711393", sdp.Origin.SessionId);
        Assert.Equal(new[] { "0", "1" }, sdp.BundleMids);
        Assert.Equal("WMS", sdp.MsidSemantic);
        Assert.Empty(sdp.MsidSemanticStreamIds);
        Assert.Equal(2, sdp.Media.Count);
        foreach (var m in sdp.Media)
        {
            Assert.Equal("6soA", m.IceUfrag);
            Assert.Equal("5PXyuI0CUP0DSJClaph46Xds", m.IcePwd);
            Assert.Equal(SdpSetupRole.Active, m.Setup);
            Assert.Equal(SdpDirection.RecvOnly, m.Direction);
            Assert.Empty(m.Ssrcs);
            Assert.Empty(m.Msids);
            Assert.Equal("68:8D:A8:EA:16:DD:04:8F:6F:4D:13:1C:BD:57:36:E0:46:DB:31:5D:6A:D3:83:C6:2F:1C:10:4E:BD:D2:A0:96",
                Assert.Single(m.Fingerprints).FormatDigest());
        }
        Assert.Equal(new[] { "0", "1" }, sdp.Media.Select(m => m.Mid));
        var h264 = sdp.Media[1].FindCodec(116)!;
        Assert.True(h264.TryGetH264ProfileLevelId(out byte idc, out _, out _));
        Assert.Equal(0x4d, idc);
    }
}
