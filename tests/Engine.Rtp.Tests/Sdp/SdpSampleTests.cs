using Engine.Rtp.Sdp;

namespace Engine.Rtp.Tests.Sdp;

/// <summary>The attributes the Chromium fixtures lack, read from <see cref="SdpSamples.Full"/>.</summary>
public class SdpSampleTests
{
    private static readonly SessionDescription Sdp = Parse();

    private static SessionDescription Parse()
    {
        Assert.True(SessionDescription.TryParse(SdpSamples.Full, out var sdp, out var error), error.ToString());
        return sdp!;
    }

    [Fact]
    public void Session_level()
    {
        Assert.True(Sdp.IceLite);
        Assert.Equal(new[] { "a", "v", "d" }, Sdp.BundleMids);
        Assert.Equal(2, Sdp.Groups.Count);
        Assert.Equal("LS", Sdp.Groups[1].Semantics);
        Assert.Equal(new[] { new SdpLine('i', "test session"), new SdpLine('b', "AS:2000") }, Sdp.OtherLines);
        Assert.Equal(3, Sdp.Media.Count);
    }

    [Fact]
    public void Candidates_rfc8839()
    {
        var a = Sdp.Media[0];
        Assert.Equal(3, a.Candidates.Count);
        Assert.True(a.EndOfCandidates);
        var host = a.Candidates[0];
        Assert.Equal(("1467250027", 1, "udp", 2122260223u, "192.168.0.196", 46243, "host"),
            (host.Foundation, host.Component, host.Transport, host.Priority, host.Address, host.Port, host.Type));
        Assert.Equal((0, "EsAw", 1, 10), (host.Generation, host.Ufrag, host.NetworkId, host.NetworkCost));
        Assert.Equal("active", a.Candidates[1].TcpType);
        var srflx = a.Candidates[2];
        Assert.Equal("srflx", srflx.Type);
        Assert.Equal("192.168.0.196", srflx.RelatedAddress);
        Assert.Equal(46243, srflx.RelatedPort);
        Assert.Equal(new[] { new SdpParameter("x-future", "7") }, srflx.Extensions);
        Assert.Equal(new[] { "trickle", "renomination" }, a.IceOptions);
        Assert.Equal(SdpDirection.SendOnly, a.Direction);
        Assert.Equal(new[] { new SdpLine('b', "TIAS:64000") }, a.OtherLines);
    }

    [Fact]
    public void Extmap_direction_and_attributes_rfc8285()
    {
        var a = Sdp.Media[0];
        Assert.Equal(new SdpExtmap(1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level", SdpDirection.None, "vad=on"), a.Extmaps[0]);
        Assert.Equal(SdpDirection.RecvOnly, a.Extmaps[1].Direction);
    }

    [Fact]
    public void Static_payload_type_without_rtpmap()
    {
        var pcmu = Sdp.Media[0].FindCodec(0)!;
        Assert.Null(pcmu.Name);
        Assert.Empty(pcmu.Parameters);
    }

    [Fact]
    public void Rtx_apt_links_and_ssrc_groups()
    {
        var v = Sdp.Media[1];
        // RFC 4588 §8.1: rtx apt= names the original payload type.
        Assert.Equal(97, v.FindRtxPayloadType(96));
        Assert.Equal(99, v.FindRtxPayloadType(98));
        Assert.Null(v.FindRtxPayloadType(97));
        Assert.Equal(96, v.FindCodec(97)!.AssociatedPayloadType);
        Assert.Null(v.FindCodec(96)!.AssociatedPayloadType);
        // RFC 5576 §4.2: FID pairs the primary SSRC with its retransmission SSRC.
        Assert.Equal(new uint[] { 2001, 2002 }, v.FindSsrcGroup("FID")!.Ssrcs);
        Assert.Equal(new uint[] { 2001, 2003 }, v.FindSsrcGroup("SIM")!.Ssrcs);
        Assert.Equal(3, v.Ssrcs.Count);
        Assert.Equal(new[] { new SdpRtcpFeedback("nack", null) }, v.WildcardFeedback);
        Assert.Equal(new SdpMsid("-", "videotrack"), Assert.Single(v.Msids));
        Assert.Equal("sha-1", v.Fingerprints[0].Algorithm);
        Assert.Equal(20, v.Fingerprints[0].Digest.Length);
        Assert.True(v.FindCodec(98)!.TryGetH264ProfileLevelId(out byte idc, out _, out byte level));
        Assert.Equal((0x64, 0x1f), (idc, level));
    }

    [Fact]
    public void Rid_and_simulcast_rfc8851_rfc8853()
    {
        var v = Sdp.Media[1];
        Assert.Equal(2, v.Rids.Count);
        var hi = v.Rids[0];
        Assert.Equal(("hi", SdpRidDirection.Send), (hi.Id, hi.Direction));
        Assert.Equal(new[] { 96, 98 }, hi.PayloadTypes);
        Assert.Equal(new[] { new SdpParameter("max-width", "1280"), new SdpParameter("max-height", "720") }, hi.Restrictions);
        Assert.Empty(v.Rids[1].PayloadTypes);
        Assert.Equal(new[] { new SdpParameter("max-width", "320") }, v.Rids[1].Restrictions);

        var sc = v.Simulcast!;
        Assert.Equal(2, sc.Send.Count);
        Assert.Equal(new[] { new SdpSimulcastRid("hi") }, sc.Send[0]);
        Assert.Equal(new[] { new SdpSimulcastRid("lo", Paused: true), new SdpSimulcastRid("mid") }, sc.Send[1]);
        Assert.Equal(new[] { new SdpSimulcastRid("r0") }, Assert.Single(sc.Recv));
    }

    [Fact]
    public void Data_channel_section_keeps_its_formats()
    {
        var d = Sdp.Media[2];
        Assert.False(d.IsRtp);
        Assert.Equal(new[] { "webrtc-datachannel" }, d.Formats);
        Assert.Empty(d.Codecs);
        Assert.Equal("5000", d.FindAttribute("sctp-port")!.Value);
    }

    [Fact]
    public void Session_level_ice_and_fingerprint_are_inherited()
    {
        const string text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
            "a=ice-ufrag:sess\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n" +
            "a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\n" +
            "a=setup:passive\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n";
        Assert.True(SessionDescription.TryParse(text, out var sdp, out var error), error.ToString());
        var m = sdp!.Media[0];
        Assert.Null(m.IceUfrag);
        Assert.Equal("sess", sdp.IceUfragFor(m));
        Assert.Equal("abcdefghijklmnopqrstuv", sdp.IcePwdFor(m));
        Assert.Equal(SdpSetupRole.Passive, sdp.SetupFor(m));
        Assert.Equal(0x1F, Assert.Single(sdp.FingerprintsFor(m)).Digest[31]);
        Assert.Equal(SdpDirection.SendRecv, sdp.DirectionFor(m));
        Assert.Equal(SdpDirection.None, m.Direction);
        Assert.Equal(text, sdp.Write());
    }

    [Fact]
    public void Session_level_direction_applies_where_a_section_has_none()
    {
        // RFC 8866 §6.7: a direction at session level holds for media sections without their own.
        const string text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=recvonly\r\n" +
            "m=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\na=sendonly\r\n";
        Assert.True(SessionDescription.TryParse(text, out var sdp, out var error), error.ToString());
        Assert.Equal(SdpDirection.RecvOnly, sdp!.Direction);
        Assert.Equal(SdpDirection.RecvOnly, sdp.DirectionFor(sdp.Media[0]));
        Assert.Equal(SdpDirection.SendOnly, sdp.DirectionFor(sdp.Media[1]));
        Assert.Empty(sdp.Attributes);
        Assert.Equal(text, sdp.Write());
    }
}
