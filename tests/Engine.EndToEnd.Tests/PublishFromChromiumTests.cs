using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 5's proof: headless Chromium publishes its fake camera and microphone to the AOT binary
/// over WHIP and over the legacy WebSocket route, on loopback; what arrives is counted against what
/// the browser says it sent, and the written H.264 decodes cleanly with ffmpeg.
/// </summary>
[Collection("chromium")] // one browser at a time: the machine has two cores
public class PublishFromChromiumTests
{
    private static readonly TimeSpan PublishFor = TimeSpan.FromSeconds(10);

    private sealed record Result(JsonElement Session, JsonElement Video, JsonElement Audio, JsonElement Browser, string DumpPath);

    private static async Task<Result> PublishAsync(EngineProcess engine, string via, string stream, string codec = "h264")
    {
        await using var page = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/?stream={stream}&autostart=1&loopback=1&via={via}&video={codec}");
        var state = await Tools.PollAsync(page.StateAsync, s => s is "connected" or "media flowing" || s.StartsWith("failed"), TimeSpan.FromSeconds(40), "the browser to connect");
        Assert.False(state.StartsWith("failed"), state + "\n" + engine.Output);
        await Task.Delay(PublishFor);
        var browser = JsonDocument.Parse((await page.EvaluateAsync("JSON.stringify(window.engineStats)")).GetString()!).RootElement.Clone();
        var streams = await engine.StreamsAsync();
        var session = streams.GetProperty("streams").EnumerateArray().Single();
        var tracks = session.GetProperty("tracks").EnumerateArray().ToList();
        var video = tracks.Single(t => t.GetProperty("kind").GetString() == "video");
        var audio = tracks.Single(t => t.GetProperty("kind").GetString() == "audio");
        // Hang up the way the page does (WHIP DELETE or closing the socket); the session and its file close.
        await page.EvaluateAsync("stop().then(() => true)", awaitPromise: true);
        await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("sessions").GetInt32(), n => n == 0, TimeSpan.FromSeconds(15), "the session to end");
        return new Result(session, video, audio, browser, engine.DumpPath(stream, codec == "h264" ? ".h264" : ".ivf"));
    }

    private static void AssertMediaArrived(Result r, string via, string codec = "h264")
    {
        Assert.Equal(via, r.Session.GetProperty("signaling").GetString());
        Assert.Equal("media", r.Session.GetProperty("state").GetString());
        Assert.Equal(codec.ToUpperInvariant(), r.Video.GetProperty("codec").GetString());
        long framesSent = r.Browser.GetProperty("videoFramesSent").GetInt64();
        long framesReceived = r.Video.GetProperty("frames").GetInt64();
        // Frames still in flight when both were sampled: a few.
        Assert.True(framesReceived >= framesSent * 0.9 - 3, $"received {framesReceived} video frames, the browser sent {framesSent}");
        Assert.True(framesSent >= 5 * PublishFor.TotalSeconds, $"the browser sent only {framesSent} frames");
        Assert.True(r.Video.GetProperty("keyframes").GetInt64() >= 1);
        Assert.Equal(r.Browser.GetProperty("width").GetInt32(), r.Video.GetProperty("width").GetInt32());
        Assert.Equal(r.Browser.GetProperty("height").GetInt32(), r.Video.GetProperty("height").GetInt32());
        // Opus in 20 ms packets: 50 frames a second, every one the browser sent.
        long audioSent = r.Browser.GetProperty("audioPacketsSent").GetInt64();
        long audioFrames = r.Audio.GetProperty("frames").GetInt64();
        Assert.True(audioFrames >= audioSent * 0.95 - 5, $"received {audioFrames} audio frames, the browser sent {audioSent}");
        double uptime = r.Session.GetProperty("uptimeSeconds").GetDouble();
        Assert.InRange(audioFrames / uptime, 40, 55);
    }

    private static void AssertDecodesCleanly(Result r, long minFrames, string codec = "h264", bool sameSize = true)
    {
        Assert.True(File.Exists(r.DumpPath), "no dump at " + r.DumpPath);
        var probe = Tools.Run(Tools.Require("ffprobe"), $"-v error -count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,nb_read_frames -of json \"{r.DumpPath}\"");
        Assert.Equal(0, probe.Code);
        var stream = JsonDocument.Parse(probe.Stdout).RootElement.GetProperty("streams")[0];
        Assert.Equal(codec, stream.GetProperty("codec_name").GetString());
        if (sameSize) // the first SPS (ffprobe) and the last (the session) agree unless the browser rescaled
        {
            Assert.Equal(r.Video.GetProperty("width").GetInt32(), stream.GetProperty("width").GetInt32());
            Assert.Equal(r.Video.GetProperty("height").GetInt32(), stream.GetProperty("height").GetInt32());
        }
        long decoded = long.Parse(stream.GetProperty("nb_read_frames").GetString()!);
        Assert.True(decoded >= minFrames, $"ffprobe decoded {decoded} frames of the dump (at least {minFrames} wanted); the session's video track: {r.Video}");
        // passthrough and the input's time base: judge the decode, not ffmpeg's rounding of variable-rate
        // timestamps to 1/fps for the null muxer ("non monotonically increasing dts" on frames 1 tick apart).
        var decode = Tools.Run(Tools.Require("ffmpeg"), $"-v error -i \"{r.DumpPath}\" -fps_mode passthrough -enc_time_base -1 -f null -");
        Assert.Equal(0, decode.Code);
        Assert.Equal("", decode.Stderr.Trim());
    }

    [Theory]
    [InlineData("whip", "h264")]
    [InlineData("ws", "h264")]
    [InlineData("whip", "vp8")]
    public async Task ChromiumPublishesCameraAndMicrophone(string via, string codec)
    {
        using var engine = new EngineProcess();
        var r = await PublishAsync(engine, via, $"cam-{via}-{codec}", codec);
        AssertMediaArrived(r, via, codec);
        AssertDecodesCleanly(r, r.Video.GetProperty("frames").GetInt64(), codec);
        AssertRecorded(engine, $"cam-{via}-{codec}");
    }

    // Without RTP2RTMPBASEURL (the embedded default) every stream is recorded as FLV: H264 + AAC.
    internal static void AssertRecorded(EngineProcess engine, string stream)
    {
        string flv = Path.Combine(engine.Directory, "recordings", stream + ".flv");
        Assert.True(File.Exists(flv), "no recording at " + flv + "\n" + engine.Output);
        var probe = Tools.Run(Tools.Require("ffprobe"), $"-v error -show_entries stream=codec_name,profile -of csv=p=0 \"{flv}\"");
        Assert.Equal(0, probe.Code);
        Assert.Contains("h264,Constrained Baseline", probe.Stdout);
        Assert.Contains("aac,LC", probe.Stdout);
        var decode = Tools.Run(Tools.Require("ffmpeg"), $"-v error -i \"{flv}\" -fps_mode passthrough -enc_time_base -1 -f null -");
        Assert.Equal("", decode.Stderr.Trim());
    }

    [Fact]
    public async Task BurstLossIsRepairedByNackAndTheStreamStillDecodes()
    {
        // Seed 10065 loses video bursts of 10, 8 and 3 packets from the 35th video packet on (and no
        // audio in the first 500): a random draw left a slow 320x240 camera with no loss to repair
        // after the first packets in about one run in ten.
        using var engine = new EngineProcess("[RTP]\nRTP_TEST=1\nRTP_TEST_SEED=10065");
        var r = await PublishAsync(engine, "whip", "lossy");
        string diagnostics = $"session counters {r.Session.GetProperty("counters")}; video {r.Video}; browser {r.Browser}";
        Assert.True(r.Session.GetProperty("counters").GetProperty("simulatedLoss").GetInt64() > 0, diagnostics);
        Assert.True(r.Video.GetProperty("nacksSent").GetInt64() > 0, diagnostics);
        Assert.True(r.Video.GetProperty("nackRecovered").GetInt64() > 0, diagnostics);
        Assert.True(r.Browser.GetProperty("retransmittedPackets").GetInt64() > 0, diagnostics);
        // Under loss Chromium's bandwidth estimate drops and it may scale the camera down mid-stream.
        AssertDecodesCleanly(r, minFrames: 10, sameSize: false);
    }
}

[CollectionDefinition("chromium", DisableParallelization = true)]
public class ChromiumCollection;
