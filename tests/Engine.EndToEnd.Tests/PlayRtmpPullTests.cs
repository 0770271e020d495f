using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 15: a stream not published here is pulled over RTMP (RTMP2RTPBASEURL) and played over WHEP.
/// ffmpeg pushes a 640x480 30 frames/s H.264 stream plus AAC (a sine) to nginx-rtmp: Constrained
/// Baseline without B-frames (passed through, no video transcode) or High with B-frames (transcoded
/// to Constrained Baseline); the AAC becomes Opus, answered stereo only for a stereo source. Chromium
/// plays it through the engine's pull, over WHEP and over imRTC/sendSdpPull; ten
/// more WHEP players of the stream share the one pull; an unknown stream answers 404 within 5 s.
/// </summary>
[Collection("chromium")]
public class PlayRtmpPullTests
{
    private const string Stream = "pulled";

    private static Process PushToNginx(NginxRtmp nginx, string stream, bool bFrames = false, int channels = 2) => Tools.StartDrained(Tools.Require("ffmpeg"),
        $"-v error -nostdin -re -f lavfi -i testsrc2=size=640x480:rate=30 -f lavfi -i sine=frequency=440:sample_rate={(channels == 1 ? 44100 : 48000)} " +
        (bFrames
            ? "-c:v libx264 -profile:v high -preset veryfast -bf 2 -g 30 -pix_fmt yuv420p "
            : "-c:v libx264 -profile:v baseline -preset veryfast -tune zerolatency -bf 0 -g 30 -pix_fmt yuv420p ") +
        $"-c:a aac -b:a 64k -ac {channels} -f flv {nginx.Url(stream)}");

    /// <summary>A recvonly H.264 offer like a browser's; nobody answers its ICE, which the pull does not care about.</summary>
    private static string Offer(int n) => string.Join("\r\n",
        "v=0", $"o=- {1000 + n} 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0", "a=msid-semantic: WMS",
        "m=video 9 UDP/TLS/RTP/SAVPF 99 100", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
        $"a=ice-ufrag:pl{n:D2}", "a=ice-pwd:playerpassword0123456789ab",
        "a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
        "a=setup:actpass", "a=mid:0", "a=recvonly", "a=rtcp-mux", "a=rtpmap:99 H264/90000", "a=rtcp-fb:99 nack pli",
        "a=fmtp:99 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        "a=rtpmap:100 H264/90000", "a=rtcp-fb:100 nack pli", "a=fmtp:100 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f", ""); // as Chromium offers both

    /// <summary><see cref="Offer"/> with an Opus m-line after the video's, as Chromium offers it (no stereo parameter).</summary>
    private static string OfferWithAudio(int n) => Offer(n).Replace("a=group:BUNDLE 0", "a=group:BUNDLE 0 1") + string.Join("\r\n",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
        $"a=ice-ufrag:pl{n:D2}", "a=ice-pwd:playerpassword0123456789ab",
        "a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
        "a=setup:actpass", "a=mid:1", "a=recvonly", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1", "");

    private static Task<HttpResponseMessage> PostWhepAsync(EngineProcess engine, string stream, string offer) =>
        engine.Http.PostAsync($"/whep/{stream}", new StringContent(offer, Encoding.UTF8, "application/sdp"));

    private static JsonElement? PullOf(JsonElement streams, string stream) =>
        streams.TryGetProperty("pulls", out var pulls)
            ? pulls.EnumerateArray().Where(p => p.GetProperty("stream").GetString() == stream).Select(p => (JsonElement?)p).FirstOrDefault()
            : null;

    [Fact]
    public async Task ChromiumPlaysAnRtmpStreamOverWhepAndTenPlayersShareOnePull()
    {
        using var nginx = new NginxRtmp();
        using var engine = new EngineProcess($"RTMP2RTPBASEURL={nginx.BaseUrl}");
        using var push = PushToNginx(nginx, Stream);
        try
        {
            // nginx-rtmp has the stream once ffmpeg's first GOP is in: until then a play finds nothing (404).
            await Tools.PollAsync(async () =>
            {
                var r = await PostWhepAsync(engine, Stream, Offer(99));
                return $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}";
            }, s => s.StartsWith("201"), TimeSpan.FromSeconds(30), "the pull to find the pushed stream");
            long pullsBefore = (await engine.StreamsAsync()).GetProperty("pullsStarted").GetInt64(); // failed tries before ffmpeg's first GOP count too

            await using (var player = PlayTab.OpenPlayer(engine, Stream))
            {
                var m = await PlayTab.MeasureAsync(() => PlayTab.StatsAsync(player), "Chromium WHEP player of an RTMP pull (Constrained Baseline, no transcode)", engine);
                Console.WriteLine($"[rtmp-pull] {m.Fps:F1} frames/s decoded over {m.Seconds:F1} s, {PlayTab.Long(m.Last, "width")}x{PlayTab.Long(m.Last, "height")}, first frame {m.FirstFrameMs} ms after the answer");
                Assert.True(m.Fps >= 20, $"{m.Fps:F1} frames/s: {m.Last}\n{engine.Output}");
                Assert.Equal(640, PlayTab.Long(m.Last, "width"));
                Assert.Equal(480, PlayTab.Long(m.Last, "height"));
                Assert.True(PlayTab.Double(m.Last, "audioEnergy") > 0, $"no audio energy: {m.Last}");
            }

            // The Constrained Baseline source passes as it is: no video transcode, but its AAC became Opus.
            var counters = PullOf(await engine.StreamsAsync(), Stream)!.Value;
            Assert.False(counters.GetProperty("videoTranscoded").GetBoolean(), counters.ToString());
            Assert.Equal(0, counters.GetProperty("videoFramesTranscoded").GetInt64());
            Assert.True(counters.GetProperty("audioToOpus").GetBoolean(), counters.ToString());
            Assert.True(counters.GetProperty("audioFramesTranscoded").GetInt64() > 0, counters.ToString());
            Assert.Equal(2, counters.GetProperty("audioChannels").GetInt32());

            var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => PostWhepAsync(engine, Stream, Offer(i))));
            Assert.All(answers, a => Assert.Equal(201, (int)a.StatusCode));
            var streams = await engine.StreamsAsync();
            var pull = PullOf(streams, Stream);
            Assert.True(pull.HasValue, streams.ToString());
            Assert.Equal(pullsBefore, streams.GetProperty("pullsStarted").GetInt64()); // every player since, Chromium's too, on the one pull
            Assert.True(pull!.Value.GetProperty("players").GetInt32() >= 10, pull.Value.ToString());
            Assert.Equal(nginx.Url(Stream), pull.Value.GetProperty("sourceUrl").GetString());
            Assert.True(pull.Value.GetProperty("bitrateBps").GetInt64() > 0, pull.Value.ToString());
        }
        finally
        {
            if (!push.HasExited)
                push.Kill(true);
        }
    }

    /// <summary>
    /// Firefox ESR here offers no H.264 (no OpenH264 plugin): the pull encodes VP8 for it. In a network
    /// namespace (Firefox gathers no loopback candidates), its counters POSTed to the test's listener.
    /// </summary>
    [Fact]
    public async Task FirefoxWithoutH264PlaysAnRtmpStreamAsVp8OverWhep()
    {
        using var ns = new NetNamespace();
        using var nginx = new NginxRtmp();
        using var engine = new EngineProcess($"RTMP2RTPBASEURL={nginx.BaseUrl}", localIp: ns.HostAddress);
        using var push = PushToNginx(nginx, "ffpull");
        try
        {
            await Tools.PollAsync(async () => (int)(await PostWhepAsync(engine, "ffpull", Offer(1))).StatusCode, s => s == 201, TimeSpan.FromSeconds(30), "the pull to find the pushed stream");
            using var reports = new PlayerReportListener(ns.HostAddress);
            using var firefox = new FirefoxPage($"http://{ns.HostAddress}:{engine.HttpPort}/?stream=ffpull&play=whep&autostart=1&report={Uri.EscapeDataString(reports.Url)}",
                ns, PlayOnFirefoxTests.AutoplayPrefs);
            var m = await PlayTab.MeasureAsync(reports.LatestAsync, "Firefox WHEP player of an RTMP pull (VP8 encoded by the pull)", engine);
            var pull = PullOf(await engine.StreamsAsync(), "ffpull")!.Value;
            Console.WriteLine($"[rtmp-pull] Firefox VP8: {m.Fps:F1} frames/s decoded over {m.Seconds:F1} s, {PlayTab.Long(m.Last, "width")}x{PlayTab.Long(m.Last, "height")}, " +
                $"first frame {m.FirstFrameMs} ms after the answer; pull {pull}");
            Assert.True(m.Fps >= 20, $"{m.Fps:F1} frames/s: {m.Last}; pull {pull}\n{engine.Output}");
            Assert.Equal(640, PlayTab.Long(m.Last, "width"));
            Assert.Equal(480, PlayTab.Long(m.Last, "height"));
            Assert.Equal(1, pull.GetProperty("vp8Players").GetInt32());
            Assert.True(pull.GetProperty("vp8FramesEncoded").GetInt64() > 200, pull.ToString());
            Assert.False(pull.GetProperty("videoTranscoded").GetBoolean(), pull.ToString()); // the H.264 players still get the source as it is
        }
        finally
        {
            if (!push.HasExited)
                push.Kill(true);
        }
    }

    [Fact]
    public async Task ChromiumPlaysAnRtmpStreamWithBFramesAndMonoAacTranscoded()
    {
        using var nginx = new NginxRtmp();
        using var engine = new EngineProcess($"RTMP2RTPBASEURL={nginx.BaseUrl}");
        using var push = PushToNginx(nginx, "bframes", bFrames: true, channels: 1);
        try
        {
            await Tools.PollAsync(async () => (int)(await PostWhepAsync(engine, "bframes", Offer(1))).StatusCode, s => s == 201, TimeSpan.FromSeconds(30), "the pull to find the pushed stream");
            var pull = PullOf(await engine.StreamsAsync(), "bframes")!.Value;
            Assert.True(pull.GetProperty("videoTranscoded").GetBoolean(), pull.ToString());
            Assert.StartsWith("42e0", pull.GetProperty("profileLevelId").GetString()); // the answer offers what the transcoder makes
            string monoAnswer = await (await PostWhepAsync(engine, "bframes", OfferWithAudio(2))).Content.ReadAsStringAsync();
            Assert.Contains("a=fmtp:111 minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0\r\n", monoAnswer); // RFC 7587 §7.1: a mono source
            await using var player = PlayTab.OpenPlayer(engine, "bframes");
            var m = await PlayTab.MeasureAsync(() => PlayTab.StatsAsync(player), "Chromium WHEP player of an RTMP pull (High with B-frames, transcoded)", engine);
            Console.WriteLine($"[rtmp-pull] B-frames: {m.Fps:F1} frames/s decoded over {m.Seconds:F1} s, {PlayTab.Long(m.Last, "width")}x{PlayTab.Long(m.Last, "height")}, " +
                $"audio energy {PlayTab.Double(m.Last, "audioEnergy"):F3}, first frame {m.FirstFrameMs} ms after the answer");
            Assert.True(m.Fps >= 20, $"{m.Fps:F1} frames/s: {m.Last}\n{engine.Output}");
            Assert.Equal(640, PlayTab.Long(m.Last, "width"));
            Assert.Equal(480, PlayTab.Long(m.Last, "height"));
            Assert.True(PlayTab.Double(m.Last, "audioEnergy") > 0, $"no audio energy: {m.Last}");
            pull = PullOf(await engine.StreamsAsync(), "bframes")!.Value;
            Assert.True(pull.GetProperty("videoFramesTranscoded").GetInt64() > 200, pull.ToString());
            Assert.Equal(1, pull.GetProperty("audioChannels").GetInt32());
            Assert.True(pull.GetProperty("audioFramesTranscoded").GetInt64() > 0, pull.ToString());
        }
        finally
        {
            if (!push.HasExited)
                push.Kill(true);
        }
    }

    [Fact]
    public async Task ChromiumPlaysAnRtmpStreamWithBFramesAndStereoAacWithSendSdpPull()
    {
        using var nginx = new NginxRtmp();
        using var engine = new EngineProcess($"RTMP2RTPBASEURL={nginx.BaseUrl}");
        using var push = PushToNginx(nginx, "ws-bframes", bFrames: true, channels: 2);
        try
        {
            await Tools.PollAsync(async () => (int)(await PostWhepAsync(engine, "ws-bframes", Offer(1))).StatusCode, s => s == 201, TimeSpan.FromSeconds(30), "the pull to find the pushed stream");
            // RFC 7587 §7.1: a stereo source is answered stereo (the mono one above is not).
            var answer = await PostWhepAsync(engine, "ws-bframes", OfferWithAudio(2));
            string sdp = await answer.Content.ReadAsStringAsync();
            Assert.Equal(201, (int)answer.StatusCode);
            Assert.Contains("a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1\r\n", sdp);
            var pull = PullOf(await engine.StreamsAsync(), "ws-bframes")!.Value;
            Assert.True(pull.GetProperty("videoTranscoded").GetBoolean(), pull.ToString());
            Assert.Equal(2, pull.GetProperty("audioChannels").GetInt32());

            await using var player = PlayTab.OpenPlayer(engine, "ws-bframes", "ws");
            var m = await PlayTab.MeasureAsync(() => PlayTab.StatsAsync(player), "Chromium sendSdpPull player of an RTMP pull (High with B-frames, transcoded; stereo AAC)", engine);
            Console.WriteLine($"[rtmp-pull] B-frames over sendSdpPull: {m.Fps:F1} frames/s decoded over {m.Seconds:F1} s, {PlayTab.Long(m.Last, "width")}x{PlayTab.Long(m.Last, "height")}, " +
                $"audio energy {PlayTab.Double(m.Last, "audioEnergy"):F3}, first frame {m.FirstFrameMs} ms after the answer");
            Assert.True(m.Fps >= 20, $"{m.Fps:F1} frames/s: {m.Last}\n{engine.Output}");
            Assert.Equal(640, PlayTab.Long(m.Last, "width"));
            Assert.Equal(480, PlayTab.Long(m.Last, "height"));
            Assert.True(PlayTab.Double(m.Last, "audioEnergy") > 0, $"no audio energy: {m.Last}");
            pull = PullOf(await engine.StreamsAsync(), "ws-bframes")!.Value;
            Assert.True(pull.GetProperty("videoFramesTranscoded").GetInt64() > 200, pull.ToString());
            Assert.True(pull.GetProperty("audioFramesTranscoded").GetInt64() > 0, pull.ToString());
        }
        finally
        {
            if (!push.HasExited)
                push.Kill(true);
        }
    }

    [Fact]
    public async Task AnUnknownStreamAnswers404WithinFiveSeconds()
    {
        using var nginx = new NginxRtmp();
        using var engine = new EngineProcess($"RTMP2RTPBASEURL={nginx.BaseUrl}");
        var sw = Stopwatch.StartNew();
        var answer = await PostWhepAsync(engine, "nobody-publishes-this", Offer(1));
        Console.WriteLine($"[rtmp-pull] unknown stream: {(int)answer.StatusCode} after {sw.ElapsedMilliseconds} ms");
        Assert.Equal(404, (int)answer.StatusCode);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(6), $"{sw.ElapsedMilliseconds} ms"); // the 5 s bound, with a second for a loaded machine
        Assert.Equal(0, PullOf(await engine.StreamsAsync(), "nobody-publishes-this")?.GetProperty("players").GetInt32() ?? 0);
    }

    [Fact]
    public async Task ASourceThatEndsEndsItsPlayersAndItsPull()
    {
        using var nginx = new NginxRtmp();
        using var engine = new EngineProcess($"RTMP2RTPBASEURL={nginx.BaseUrl}");
        using var push = PushToNginx(nginx, "ending");
        try
        {
            await Tools.PollAsync(async () => (int)(await PostWhepAsync(engine, "ending", Offer(1))).StatusCode, s => s == 201, TimeSpan.FromSeconds(30), "the pull to find the pushed stream");
            Assert.Equal(201, (int)(await PostWhepAsync(engine, "ending", Offer(2))).StatusCode);
            Assert.Equal(2, PullOf(await engine.StreamsAsync(), "ending")!.Value.GetProperty("players").GetInt32());
            push.Kill(true);
            var sw = Stopwatch.StartNew();
            var streams = await Tools.PollAsync(engine.StreamsAsync, s => s.GetProperty("players").GetInt32() == 0 && PullOf(s, "ending") == null,
                TimeSpan.FromSeconds(20), "the players and the pull to end after the source stopped");
            Console.WriteLine($"[rtmp-pull] source stopped: players and pull gone {sw.ElapsedMilliseconds} ms later");
            Assert.Contains("RTMP pull) ended: the RTMP source ended", engine.Output);
        }
        finally
        {
            if (!push.HasExited)
                push.Kill(true);
        }
    }

    [Fact]
    public async Task ChromiumPlaysAnRtmpStreamWithSendSdpPull()
    {
        using var nginx = new NginxRtmp();
        using var engine = new EngineProcess($"RTMP2RTPBASEURL={nginx.BaseUrl}");
        using var push = PushToNginx(nginx, "ws-pulled");
        try
        {
            await Tools.PollAsync(async () => (int)(await PostWhepAsync(engine, "ws-pulled", Offer(1))).StatusCode, s => s == 201, TimeSpan.FromSeconds(30), "the pull to find the pushed stream");
            await using var player = PlayTab.OpenPlayer(engine, "ws-pulled", "ws");
            var m = await PlayTab.MeasureAsync(() => PlayTab.StatsAsync(player), "Chromium sendSdpPull player of an RTMP pull (Constrained Baseline, no transcode)", engine);
            Assert.True(m.Fps >= 20, $"{m.Fps:F1} frames/s: {m.Last}\n{engine.Output}");
            Assert.Equal(640, PlayTab.Long(m.Last, "width"));
            Assert.Equal(480, PlayTab.Long(m.Last, "height"));
            Assert.True(PlayTab.Double(m.Last, "audioEnergy") > 0, $"no audio energy: {m.Last}");
        }
        finally
        {
            if (!push.HasExited)
                push.Kill(true);
        }
    }
}
