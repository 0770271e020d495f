using Engine.Host.Sessions;
using Engine.Rtp.Sdp;

namespace Engine.Host.Tests.Sessions;

public class PublishNegotiationTests
{
    private static readonly PublishNegotiation.LocalParameters Local = new(
        "abcd", "0123456789abcdefghijkl", new SdpFingerprint("sha-256", Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()),
        "127.0.0.1", 10000, 42);

    private static SessionDescription Offer(string text)
    {
        Assert.True(SessionDescription.TryParse(text, out var sdp, out var error), error.ToString());
        return sdp!;
    }

    private static PublishNegotiation.Result Answer(SessionDescription offer)
    {
        Assert.True(PublishNegotiation.TryAnswer(offer, Local, out var r, out var reason), reason);
        return r!;
    }

    [Fact]
    public void FirefoxsBundleOnlyVideoIsAccepted()
    {
        // Firefox 153 (captured by this project): the video m-line has port 0 and a=bundle-only, and is
        // in the BUNDLE group with the audio; it carries VP8/VP9/AV1 and no H264 (no OpenH264 plugin).
        var offer = Offer(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Sessions", "Data", "firefox153-offer.sdp")));
        var offeredVideo = offer.Media.Single(m => m.Media == "video");
        Assert.Equal(0, offeredVideo.Port);
        Assert.True(offeredVideo.BundleOnly);
        var r = Answer(offer);
        Assert.Equal(2, r.Tracks.Count);
        Assert.Equal("VP8", r.Tracks.Single(t => t.Kind == MediaKind.Video).Codec);
        Assert.Equal("OPUS", r.Tracks.Single(t => t.Kind == MediaKind.Audio).Codec);
        // Every offered m-line is answered, in order, and both are live in the answer's BUNDLE.
        Assert.Equal(offer.Media.Select(m => m.Mid), r.Answer.Media.Select(m => m.Mid));
        Assert.Equal(["0", "1"], r.Answer.BundleMids);
        Assert.All(r.Answer.Media, m => Assert.Equal(10000, m.Port));
        Assert.All(r.Answer.Media, m => Assert.False(m.BundleOnly));
        // The written answer parses back the same.
        Assert.True(SessionDescription.TryParse(r.Answer.Write(), out var again, out var error), error.ToString());
        Assert.Equal(2, again!.Media.Count(m => m.Port == 10000));
    }

    [Fact]
    public void PortZeroWithoutBundleOnlyIsStillRejected()
    {
        string text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Sessions", "Data", "firefox153-offer.sdp")).Replace("a=bundle-only\r\n", "");
        var offer = Offer(text);
        Assert.False(offer.Media.Single(m => m.Media == "video").BundleOnly);
        var r = Answer(offer);
        Assert.Equal("audio", r.Answer.Media.Single(m => m.Port != 0).Media);
        Assert.Equal(0, r.Answer.Media.Single(m => m.Media == "video").Port);
        Assert.Equal(MediaKind.Audio, Assert.Single(r.Tracks).Kind);
    }

    [Fact]
    public void ChromiumsOfferGetsAnIceLiteBundledAnswer()
    {
        var offer = Offer(Fixtures.ReadText("chromium156-offer.sdp"));
        var r = Answer(offer);
        var answer = r.Answer;
        Assert.True(answer.IceLite);
        Assert.Equal(offer.BundleMids, answer.BundleMids);
        Assert.False(r.WeAreDtlsClient);
        Assert.Equal(2, r.Tracks.Count);

        var video = r.Tracks.Single(t => t.Kind == MediaKind.Video);
        Assert.Equal("H264", video.Codec);
        Assert.Equal("42e01f", video.H264ProfileLevelId); // Constrained Baseline first
        var offeredVideo = offer.Media.Single(m => m.Media == "video");
        Assert.Equal(1, offeredVideo.FindCodec(video.PayloadType)!.H264PacketizationMode);
        var audio = r.Tracks.Single(t => t.Kind == MediaKind.Audio);
        Assert.Equal("OPUS", audio.Codec);
        Assert.Equal(48000, audio.ClockRate);
        Assert.Equal(2, audio.Channels);

        foreach (var m in answer.Media)
        {
            Assert.Equal(SdpDirection.RecvOnly, m.Direction);
            Assert.True(m.RtcpMux);
            Assert.Equal(SdpSetupRole.Passive, m.Setup);
            Assert.Equal("abcd", m.IceUfrag);
            Assert.Equal(Local.Fingerprint, Assert.Single(m.Fingerprints));
            var c = Assert.Single(m.Candidates);
            Assert.Equal(("127.0.0.1", 10000, "host"), (c.Address, c.Port, c.Type));
            Assert.Single(m.Codecs);
        }
        // The offer's ids for mid, abs-send-time and transport-cc are kept.
        foreach (var uri in new[] { PublishNegotiation.MidUri, PublishNegotiation.AbsSendTimeUri, PublishNegotiation.TransportCcUri })
            Assert.Equal(offeredVideo.FindExtmap(uri)!.Id, r.ExtensionIds[uri]);
        Assert.Equal(offer.IceUfragFor(offeredVideo), r.RemoteUfrag);

        // The answer is valid SDP that round-trips.
        Assert.True(SessionDescription.TryParse(answer.Write(), out var again, out var error), error.ToString());
        Assert.Equal(answer.Write(), again!.Write());
    }

    private const string Template = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
        "m=video 9 UDP/TLS/RTP/SAVPF {0}\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n" +
        "a=ice-ufrag:remo\r\na=ice-pwd:remoteremoteremoteremote\r\na=setup:{2}\r\n" +
        "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n{1}";

    private static string Video(string pts, string rtpmaps, string setup = "actpass") => string.Format(Template, pts, rtpmaps, setup);

    [Fact]
    public void Vp8IsTakenOnlyWithoutH264()
    {
        var vp8only = Answer(Offer(Video("96 98", "a=rtpmap:96 VP8/90000\r\na=rtpmap:98 VP9/90000\r\n")));
        Assert.Equal("VP8", vp8only.Tracks[0].Codec);
        var both = Answer(Offer(Video("96 97", "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 H264/90000\r\na=fmtp:97 packetization-mode=1;profile-level-id=4d001f\r\n")));
        Assert.Equal("H264", both.Tracks[0].Codec);
        Assert.Equal("4d001f", both.Tracks[0].H264ProfileLevelId);
    }

    [Fact]
    public void H264WithoutPacketizationMode1IsNotUsable()
    {
        Assert.False(PublishNegotiation.TryAnswer(Offer(Video("97", "a=rtpmap:97 H264/90000\r\na=fmtp:97 profile-level-id=42e01f\r\n")), Local, out _, out var reason));
        Assert.Contains("no usable codec", reason);
    }

    [Fact]
    public void APassiveOfferMakesUsTheDtlsClient()
    {
        var r = Answer(Offer(Video("96", "a=rtpmap:96 VP8/90000\r\n", "passive")));
        Assert.True(r.WeAreDtlsClient);
        Assert.Equal(SdpSetupRole.Active, r.Answer.Media[0].Setup);
    }

    [Theory]
    [InlineData("a=group:BUNDLE 0\r\n", "", "BUNDLE")]
    [InlineData("a=rtcp-mux\r\n", "", "rtcp-mux")]
    [InlineData("a=fingerprint:", "a=x-fingerprint:", "fingerprint")]
    [InlineData("a=sendonly", "a=recvonly", "does not send")]
    public void OffersItCannotServeAreRefusedWithAReason(string from, string to, string expected)
    {
        var text = Video("96", "a=rtpmap:96 VP8/90000\r\n").Replace(from, to);
        Assert.False(PublishNegotiation.TryAnswer(Offer(text), Local, out _, out var reason));
        Assert.Contains(expected, reason);
    }

    [Fact]
    public void AudioOnlyAndVideoOnlyOffersWork()
    {
        var chromium = Offer(Fixtures.ReadText("chromium156-offer.sdp"));
        foreach (var kind in new[] { "audio", "video" })
        {
            var offer = Offer(Fixtures.ReadText("chromium156-offer.sdp"));
            var drop = offer.Media.Single(m => m.Media == kind);
            offer.Media.Remove(drop);
            offer.BundleGroup!.Mids.Remove(drop.Mid!);
            var r = Answer(offer);
            Assert.Single(r.Tracks);
            Assert.NotEqual(kind == "audio" ? MediaKind.Audio : MediaKind.Video, r.Tracks[0].Kind);
        }
    }
}
