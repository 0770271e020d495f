using System.Diagnostics;
using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 6's proof: headless Chromium publishes over WHIP to artifacts/engine, which pushes FLV to
/// nginx-rtmp; ffmpeg pulls the stream back from nginx for 15 s and ffprobe judges it: H264
/// Constrained Baseline + AAC, the camera's size, the frame count, a clean decode. Once remuxed
/// (the browser's Constrained Baseline), once transcoded from Main (4d001f), once from VP8.
/// </summary>
[Collection("chromium")]
public class RtmpOutputTests
{
    private static readonly TimeSpan PullFor = TimeSpan.FromSeconds(15);

    private static JsonElement Output(JsonElement streams) =>
        streams.GetProperty("streams").EnumerateArray().Single().GetProperty("outputs")[0];

    private static async Task<JsonElement> WaitLiveAsync(EngineProcess engine, TimeSpan timeout) =>
        await Tools.PollAsync(async () => Output(await engine.StreamsAsync()),
            o => o.GetProperty("state").GetString() == "live" && o.GetProperty("videoFrames").GetInt64() > 0, timeout, "the RTMP output to be live");

    [Theory]
    [InlineData("h264", "", "remux H264")]
    [InlineData("h264", "4d001f", "transcode H264 to H264 baseline")]
    [InlineData("vp8", "", "transcode Vp8 to H264 baseline")]
    public async Task PublishedStreamPlaysFromNginxRtmp(string codec, string profile, string mode)
    {
        using var nginx = new NginxRtmp();
        using var engine = new EngineProcess($"RTP2RTMPBASEURL={nginx.BaseUrl}");
        string stream = $"rtmp-{codec}{profile}";
        await using var page = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/?stream={stream}&autostart=1&loopback=1&via=whip&video={codec}&h264profile={profile}");
        await Tools.PollAsync(page.StateAsync, s => s is "connected" or "media flowing" || s.StartsWith("failed"), TimeSpan.FromSeconds(40), "the browser to connect");
        var output = await WaitLiveAsync(engine, TimeSpan.FromSeconds(20));
        Assert.Equal(mode, output.GetProperty("mode").GetString());
        // Our RTMP client: the audio transcode runs on a shared worker unless the video is re-encoded.
        string writer = mode == "remux H264" ? "shared worker" : "own thread";
        await Tools.PollAsync(async () => Output(await engine.StreamsAsync()).GetProperty("writer").GetString()!, w => w == writer, TimeSpan.FromSeconds(5), "the writer to be a " + writer);
        if (codec == "h264" && profile == "") // Chromium's OpenH264 sends Constrained Baseline (even when 4d001f is negotiated)
        {
            // /api/streams is a snapshot the media thread publishes every few hundred ms: the
            // profile can appear a snapshot after the output went live.
            string h264Profile = await Tools.PollAsync(async () =>
            {
                var track = (await engine.StreamsAsync()).GetProperty("streams")[0].GetProperty("tracks").EnumerateArray()
                    .Single(t => t.GetProperty("kind").GetString() == "video");
                return track.TryGetProperty("h264Profile", out var p) ? p.GetString() ?? "" : "";
            }, p => p.Length > 0, TimeSpan.FromSeconds(5), "the video track's H.264 profile");
            Assert.StartsWith("42", h264Profile);
        }

        // Pull it back from nginx while the browser keeps publishing.
        string pulled = Path.Combine(engine.Directory, stream + ".flv");
        long sentBefore = await FramesSentAsync(page);
        var sizeBefore = await SizeAsync(page);
        var sw = Stopwatch.StartNew();
        var pull = Tools.Run(Tools.Require("ffmpeg"), $"-v error -nostdin -rw_timeout 10000000 -analyzeduration 10000000 -i {nginx.Url(stream)} -t {PullFor.TotalSeconds} -c copy -f flv \"{pulled}\"", 60_000);
        double pulledSeconds = sw.Elapsed.TotalSeconds;
        long sentAfter = await FramesSentAsync(page);
        Assert.True(pull.Code == 0, pull.Stderr + engine.Output);

        var probe = Tools.Run(Tools.Require("ffprobe"), $"-v error -count_frames -show_entries stream=codec_name,profile,width,height,nb_read_frames -of json \"{pulled}\"");
        Assert.Equal(0, probe.Code);
        var streams = JsonDocument.Parse(probe.Stdout).RootElement.GetProperty("streams").EnumerateArray().ToList();
        var status = (await engine.StreamsAsync()).GetRawText();
        Assert.True(streams.Count(s => s.GetProperty("codec_name").GetString() == "h264") == 1, probe.Stdout + status);
        Assert.True(streams.Count(s => s.GetProperty("codec_name").GetString() == "aac") == 1, probe.Stdout + status);
        var v = streams.Single(s => s.GetProperty("codec_name").GetString() == "h264");
        Assert.Equal("Constrained Baseline", v.GetProperty("profile").GetString());
        var browser = await StatsAsync(page);
        // The camera's size: Chromium may scale it down under load, so either the size before or after the pull.
        var pulledSize = (v.GetProperty("width").GetInt32(), v.GetProperty("height").GetInt32());
        var sizeAfter = (browser.GetProperty("width").GetInt32(), browser.GetProperty("height").GetInt32());
        Assert.True(pulledSize == sizeBefore || pulledSize == sizeAfter, $"pulled {pulledSize}, the browser sent {sizeBefore} then {sizeAfter}");
        // The frame count matches the browser's frame rate over the pulled video's span, within 10%: no
        // frame lost on the way. (nginx starts a late viewer's video at a keyframe, so the span is under 15 s.)
        long frames = long.Parse(v.GetProperty("nb_read_frames").GetString()!);
        var pts = Tools.Run(Tools.Require("ffprobe"), $"-v error -select_streams v -show_entries packet=pts_time -of csv=p=0 \"{pulled}\"").Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => double.Parse(l.Trim().TrimEnd(','), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        double span = pts.Max() - pts.Min();
        double fps = (sentAfter - sentBefore) / pulledSeconds;
        Assert.True(span >= 10, $"only {span:F1} s of video pulled " + status);
        double expected = span * fps + 1;
        Assert.True(Math.Abs(frames - expected) <= expected * 0.10, $"pulled {frames} video frames over {span:F1} s, expected {expected:F0} at {fps:F1} fps (+-10%) " + status);
        var decode = Tools.Run(Tools.Require("ffmpeg"), $"-v error -i \"{pulled}\" -fps_mode passthrough -enc_time_base -1 -f null -");
        Assert.Equal(0, decode.Code);
        Assert.Equal("", decode.Stderr.Trim());

        // The publisher leaves: the RTMP stream closes cleanly and the session ends.
        await page.EvaluateAsync("stop().then(() => true)", awaitPromise: true);
        await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("sessions").GetInt32(), n => n == 0, TimeSpan.FromSeconds(15), "the session to end");
    }

    [Fact]
    public async Task NginxRestartMidStream_OutputResumes_SessionStays()
    {
        using var nginx = new NginxRtmp();
        using var engine = new EngineProcess($"RTP2RTMPBASEURL={nginx.BaseUrl}");
        await using var page = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/?stream=restart&autostart=1&loopback=1&via=whip&video=h264");
        await Tools.PollAsync(page.StateAsync, s => s is "connected" or "media flowing" || s.StartsWith("failed"), TimeSpan.FromSeconds(40), "the browser to connect");
        await WaitLiveAsync(engine, TimeSpan.FromSeconds(20));
        string sessionId = (await engine.StreamsAsync()).GetProperty("streams")[0].GetProperty("id").GetString()!;
        await Task.Delay(2000);

        nginx.Kill();
        await Tools.PollAsync(async () => Output(await engine.StreamsAsync()).GetProperty("state").GetString()!, s => s != "live", TimeSpan.FromSeconds(10), "the output to notice");
        await Task.Delay(3000);
        nginx.Start();
        var restarted = Stopwatch.StartNew();
        var o = await Tools.PollAsync(async () => Output(await engine.StreamsAsync()),
            o => o.GetProperty("state").GetString() == "live" && o.GetProperty("reconnects").GetInt64() >= 1, TimeSpan.FromSeconds(5), "the output to resume within 5 s");
        Assert.True(restarted.Elapsed < TimeSpan.FromSeconds(5.5));
        long framesAtResume = o.GetProperty("videoFrames").GetInt64();
        await Task.Delay(2000);
        var streams = await engine.StreamsAsync();
        var session = streams.GetProperty("streams")[0];
        Assert.Equal(sessionId, session.GetProperty("id").GetString());
        Assert.Equal("media", session.GetProperty("state").GetString());
        Assert.True(Output(streams).GetProperty("videoFrames").GetInt64() > framesAtResume + 10, "frames did not flow after the restart");
        // And what nginx serves after the restart starts on a keyframe and decodes.
        string pulled = Path.Combine(engine.Directory, "after-restart.flv");
        var pull = Tools.Run(Tools.Require("ffmpeg"), $"-v error -nostdin -rw_timeout 10000000 -i {nginx.Url("restart")} -t 3 -c copy -f flv \"{pulled}\"", 30_000);
        Assert.True(pull.Code == 0, pull.Stderr);
        Assert.Equal("", Tools.Run(Tools.Require("ffmpeg"), $"-v error -i \"{pulled}\" -fps_mode passthrough -enc_time_base -1 -f null -").Stderr.Trim());
    }

    // The page fills engineStats from getStats() once a second: wait for its first video sample.
    private static Task<JsonElement> StatsAsync(ChromiumPage page) =>
        Tools.PollAsync(async () => JsonDocument.Parse((await page.EvaluateAsync("JSON.stringify(window.engineStats)")).GetString()!).RootElement.Clone(),
            s => s.TryGetProperty("videoFramesSent", out _) && s.TryGetProperty("width", out var w) && w.ValueKind == JsonValueKind.Number,
            TimeSpan.FromSeconds(10), "the browser's video stats");

    private static async Task<(int, int)> SizeAsync(ChromiumPage page)
    {
        var stats = await StatsAsync(page);
        return (stats.GetProperty("width").GetInt32(), stats.GetProperty("height").GetInt32());
    }

    private static async Task<long> FramesSentAsync(ChromiumPage page) => (await StatsAsync(page)).GetProperty("videoFramesSent").GetInt64();
}
