using Engine.Host.Playback;
using Engine.Host.Sessions;
using Engine.Rtp.Sdp;

namespace Engine.Host.Tests.Playback;

public class PlayNegotiationTests
{
    private static readonly PublishNegotiation.LocalParameters Local = new(
        "abcd", "0123456789abcdefghijkl", new SdpFingerprint("sha-256", Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()),
        "127.0.0.1", 10000, 42);

    private static readonly NegotiatedTrack[] Published =
    {
        new("0", MediaKind.Audio, "OPUS", 111, 48000, 2, null, []),
        new("1", MediaKind.Video, "H264", 102, 90000, 1, "42e01f", []),
    };

    // A Chromium-like recvonly offer: video first, H264 under other payload types than the publisher's, RTX, mid.
    internal const string Offer = """
        v=0
        o=- 4611731400430051336 2 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0 1
        a=msid-semantic: WMS
        m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101
        c=IN IP4 0.0.0.0
        a=rtcp:9 IN IP4 0.0.0.0
        a=ice-ufrag:PlYr
        a=ice-pwd:playerpassword0123456789ab
        a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99
        a=setup:actpass
        a=mid:0
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=recvonly
        a=rtcp-mux
        a=rtcp-rsize
        a=rtpmap:96 VP8/90000
        a=rtcp-fb:96 nack
        a=rtpmap:97 rtx/90000
        a=fmtp:97 apt=96
        a=rtpmap:98 H264/90000
        a=rtcp-fb:98 goog-remb
        a=rtcp-fb:98 transport-cc
        a=rtcp-fb:98 ccm fir
        a=rtcp-fb:98 nack
        a=rtcp-fb:98 nack pli
        a=fmtp:98 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
        a=rtpmap:99 H264/90000
        a=rtcp-fb:99 ccm fir
        a=rtcp-fb:99 nack
        a=rtcp-fb:99 nack pli
        a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
        a=rtpmap:100 rtx/90000
        a=fmtp:100 apt=99
        a=rtpmap:101 H264/90000
        a=fmtp:101 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f
        m=audio 9 UDP/TLS/RTP/SAVPF 109 0
        c=IN IP4 0.0.0.0
        a=ice-ufrag:PlYr
        a=ice-pwd:playerpassword0123456789ab
        a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99
        a=setup:actpass
        a=mid:1
        a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
        a=recvonly
        a=rtcp-mux
        a=rtpmap:109 opus/48000/2
        a=fmtp:109 minptime=10;useinbandfec=1
        a=rtpmap:0 PCMU/8000

        """;

    private static SessionDescription Parse(string text)
    {
        Assert.True(SessionDescription.TryParse(text.ReplaceLineEndings("\r\n"), out var sdp, out var error), error.ToString());
        return sdp!;
    }

    private static bool TryAnswer(string offer, out PlayNegotiation.Result? r, out string reason, IReadOnlyList<NegotiatedTrack>? published = null) =>
        PlayNegotiation.TryAnswer(Parse(offer), published ?? Published, "cam1", Local, new Random(7), out r, out reason);

    [Fact]
    public void AnswerIsSendOnlyWithThePlayersPayloadTypesOurSsrcsAndMsid()
    {
        Assert.True(TryAnswer(Offer, out var r, out var reason), reason);
        var video = r!.Tracks.Single(t => t.Kind == MediaKind.Video);
        var audio = r.Tracks.Single(t => t.Kind == MediaKind.Audio);
        // The publisher's codec under the player's payload type: H264 mode 1 of the same profile (99), not mode 0 (98) nor High (101).
        Assert.Equal(99, video.PayloadType);
        Assert.Equal(1, video.PublisherTrack);
        Assert.Equal(100, video.RtxPayloadType);
        Assert.NotNull(video.RtxSsrc);
        Assert.Equal(109, audio.PayloadType);
        Assert.Equal(0, audio.PublisherTrack);
        Assert.Equal(4, r.MidExtensionId);
        Assert.Equal("PlYr", r.RemoteUfrag);

        // Written and parsed again, as the browser will see it.
        string text = r.Answer.Write();
        var answer = Parse(text);
        Assert.True(answer.IceLite);
        Assert.Equal(["0", "1"], answer.BundleMids);
        var v = answer.Media[0];
        Assert.Equal("video", v.Media);
        Assert.Equal(SdpDirection.SendOnly, v.Direction);
        Assert.Equal(SdpSetupRole.Passive, v.Setup);
        Assert.True(v.RtcpMux);
        Assert.Contains("m=video 10000 UDP/TLS/RTP/SAVPF 99 100\r\n", text);
        Assert.Equal([99, 100], v.Codecs.Select(c => c.PayloadType));
        Assert.Equal("packetization-mode=1", v.Codecs[0].Parameters.Select(p => p.Name + "=" + p.Value).Single(p => p.StartsWith("packetization")));
        Assert.Contains(v.Codecs[0].Feedback, f => f.Type == "nack" && f.Parameter == "pli");
        Assert.DoesNotContain(v.Codecs[0].Feedback, f => f.Type == "transport-cc");
        Assert.Equal(99, v.Codecs.Single(c => c.IsNamed("rtx")).AssociatedPayloadType);
        Assert.Equal(new SdpExtmap(4, PublishNegotiation.MidUri), Assert.Single(v.Extmaps));
        Assert.Equal("abcd", v.IceUfrag);
        Assert.Equal(Local.Fingerprint.ToString(), Assert.Single(v.Fingerprints).ToString());
        Assert.Equal(10000, Assert.Single(v.Candidates).Port);
        Assert.Equal(new uint[] { video.Ssrc, video.RtxSsrc!.Value }, v.Ssrcs.Select(s => s.Ssrc));
        Assert.All(v.Ssrcs, s => Assert.Equal(PlayNegotiation.Cname, s.Cname));
        Assert.Equal(new uint[] { video.Ssrc, video.RtxSsrc!.Value }, v.FindSsrcGroup("FID")!.Ssrcs);
        Assert.Equal("cam1", Assert.Single(v.Msids).StreamId);
        var a = answer.Media[1];
        Assert.Equal(SdpDirection.SendOnly, a.Direction);
        Assert.Equal([109], a.Codecs.Select(c => c.PayloadType));
        Assert.Equal(audio.Ssrc, Assert.Single(a.Ssrcs).Ssrc);
        Assert.Equal("cam1", Assert.Single(a.Msids).StreamId);
    }

    private static string OpusFmtp(string offer, bool? stereo)
    {
        var published = new NegotiatedTrack[] { Published[0] with { Stereo = stereo }, Published[1] };
        Assert.True(TryAnswer(offer, out var r, out var reason, published), reason);
        var opus = Parse(r!.Answer.Write()).Media[1].Codecs.Single(c => c.IsNamed("opus"));
        Assert.Equal(2, opus.Channels); // RFC 7587 §7: the rtpmap says 2 channels, mono or not
        return string.Join(";", opus.Parameters.Select(p => p.Name + "=" + p.Value));
    }

    [Fact]
    public void OpusAnswerSaysStereoOnlyForAStereoSourceTheOfferDoesNotRefuse()
    {
        // RFC 7587 §7.1: a pulled stereo AAC source answers stereo=1;sprop-stereo=1, a mono one 0.
        Assert.Equal("minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1", OpusFmtp(Offer, true));
        Assert.Equal("minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0", OpusFmtp(Offer, false));
        // A Firefox-like offer already says stereo=1: one of each in the answer, not two.
        string firefox = Offer.Replace("a=fmtp:109 minptime=10;useinbandfec=1", "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1");
        Assert.Equal("maxplaybackrate=48000;useinbandfec=1;stereo=1;sprop-stereo=1", OpusFmtp(firefox, true));
        // A player preferring mono (stereo=0) is answered mono even for a stereo source.
        string mono = Offer.Replace("a=fmtp:109 minptime=10;useinbandfec=1", "a=fmtp:109 minptime=10;stereo=0;useinbandfec=1");
        Assert.Equal("minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0", OpusFmtp(mono, true));
        // A relayed publisher (channels unknown): the offer's parameters as they came.
        Assert.Equal("maxplaybackrate=48000;stereo=1;useinbandfec=1", OpusFmtp(firefox, null));
        Assert.Equal("minptime=10;useinbandfec=1", OpusFmtp(Offer, null));
    }

    [Fact]
    public void H264OfAnotherProfileOrWithoutPacketizationMode1IsRefusedWithAReason()
    {
        string noMode1 = Offer.Replace("packetization-mode=1;profile-level-id=42e01f", "packetization-mode=0;profile-level-id=42e01f");
        Assert.False(TryAnswer(noMode1, out _, out var reason));
        Assert.Contains("H264 profile-level-id 42e01f", reason);
        Assert.Contains("packetization-mode=1", reason);

        var high = new NegotiatedTrack[] { Published[0], Published[1] with { H264ProfileLevelId = "640c1f" } };
        Assert.True(TryAnswer(Offer, out var r, out reason, high), reason);
        Assert.Equal(101, r!.Tracks.Single(t => t.Kind == MediaKind.Video).PayloadType);

        var main = new NegotiatedTrack[] { Published[0], Published[1] with { H264ProfileLevelId = "4d001f" } };
        Assert.False(TryAnswer(Offer, out _, out reason, main));
        Assert.Contains("4d001f", reason);
    }

    [Fact]
    public void Vp8PublisherIsPlayedWithThePlayersVp8()
    {
        var vp8 = new NegotiatedTrack[] { Published[0], new("1", MediaKind.Video, "VP8", 120, 90000, 1, null, []) };
        Assert.True(TryAnswer(Offer, out var r, out var reason, vp8), reason);
        var video = r!.Tracks.Single(t => t.Kind == MediaKind.Video);
        Assert.Equal(96, video.PayloadType);
        Assert.Equal(97, video.RtxPayloadType);
    }

    [Fact]
    public void PullAnswersVp8OnlyWhenThePlayerOffersNoUsableH264()
    {
        // Firefox without OpenH264: VP8 only. A relay refuses it; a pull (which can encode VP8) answers VP8.
        string vp8Only = string.Join("\n", Offer.Split('\n').Where(l => !l.Contains("H264") && !l.Contains("apt=99") && !l.Contains("rtpmap:100")
            && !l.Contains("fb:98") && !l.Contains("fb:99") && !l.Contains("fmtp:98") && !l.Contains("fmtp:99") && !l.Contains("fmtp:101")))
            .Replace(" 96 97 98 99 100 101", " 96 97");
        Assert.False(TryAnswer(vp8Only, out _, out var reason));
        Assert.Contains("no H264", reason);
        Assert.True(PlayNegotiation.TryAnswer(Parse(vp8Only), Published, "cam1", Local, new Random(7), out var r, out reason, vp8WhenNoH264: true), reason);
        var video = r!.Tracks.Single(t => t.Kind == MediaKind.Video);
        Assert.Equal(("VP8", 96, 97), (video.Codec, (int)video.PayloadType, (int)video.RtxPayloadType));
        var m = Parse(r.Answer.Write()).Media.Single(x => x.Media == "video");
        Assert.Equal("VP8", m.Codecs[0].Name);
        Assert.Contains(m.Codecs[0].Feedback, f => f.Type == "nack" && f.Parameter == null);

        // H.264 of the source's profile still wins when offered.
        Assert.True(PlayNegotiation.TryAnswer(Parse(Offer), Published, "cam1", Local, new Random(7), out r, out reason, vp8WhenNoH264: true), reason);
        Assert.Equal("H264", r!.Tracks.Single(t => t.Kind == MediaKind.Video).Codec);
    }

    [Fact]
    public void OffersWithoutBundleFingerprintOrRtcpMuxOrAsPassiveAreRefused()
    {
        Assert.False(TryAnswer(Offer.Replace("a=group:BUNDLE 0 1\n", ""), out _, out var reason));
        Assert.Contains("BUNDLE", reason);
        Assert.False(TryAnswer(string.Join("\n", Offer.Split('\n').Where(l => !l.StartsWith("a=fingerprint"))), out _, out reason));
        Assert.Contains("fingerprint", reason);
        Assert.False(TryAnswer(Offer.Replace("a=rtcp-mux\n", ""), out _, out reason));
        Assert.Contains("rtcp-mux", reason);
        Assert.False(TryAnswer(Offer.Replace("a=setup:actpass", "a=setup:passive"), out _, out reason));
        Assert.Contains("setup:passive", reason);
        // Only sending: nothing for us to send to.
        Assert.False(TryAnswer(Offer.Replace("a=recvonly", "a=sendonly"), out _, out reason));
        Assert.Contains("does not receive media", reason);
    }

    [Fact]
    public void AudioOnlyPublisherAnswersVideoRejected()
    {
        Assert.True(TryAnswer(Offer, out var r, out var reason, [Published[0]]), reason);
        var track = Assert.Single(r!.Tracks);
        Assert.Equal(MediaKind.Audio, track.Kind);
        Assert.Equal(0, r.Answer.Media[0].Port);
        Assert.Equal(["1"], r.Answer.BundleMids);
    }
}
