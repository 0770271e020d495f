using System.Globalization;
using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 19: two WebRTC stacks that are not browsers publish to the AOT binary over WHIP on loopback,
/// GStreamer 1.22's webrtcbin (OpenSSL DTLS with its default RSA-2048 certificate, its own sender
/// reports) and Pion (Go). Each publisher (peers/) prints what it sent; the engine's FLV recording
/// must decode cleanly and hold that: the source's size, the frames (±10%) and the time (±5%).
/// </summary>
[Collection("chromium")] // one heavy peer at a time: the machine has two cores
public class NonBrowserPublishTests
{
    private const double PublishSeconds = 10;
    private const int Fps = 30;

    private static string PeersDir => Path.Combine(Tools.RepoRoot, "tests", "Engine.EndToEnd.Tests", "peers");

    /// <summary>What a publisher says it sent after the peer connection came up, until its DELETE.</summary>
    private sealed record Sent(double Seconds, long VideoFrames, long AudioPackets);

    private static Sent RunPublisher(EngineProcess engine, string file, string arguments)
    {
        var (code, stdout, stderr) = Tools.Run(file, arguments, timeoutMs: 50_000);
        Assert.True(code == 0, $"{Path.GetFileName(file)} exited {code}: {stderr}\n{stdout}\nengine:\n{engine.Output}");
        var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        return new Sent(json.GetProperty("seconds").GetDouble(), json.GetProperty("videoFrames").GetInt64(), json.GetProperty("audioPackets").GetInt64());
    }

    [Fact]
    public async Task GStreamerWebrtcbinPublishesH264AndOpus()
    {
        using var engine = new EngineProcess();
        const string stream = "gst-webrtcbin";
        var sent = RunPublisher(engine, Tools.Require("python3"),
            $"-B \"{Path.Combine(PeersDir, "gst_whip_publish.py")}\" http://127.0.0.1:{engine.HttpPort}/whip/{stream} {PublishSeconds.ToString(CultureInfo.InvariantCulture)}");
        // The live sources run at 30 fps and 50 Opus packets a second whatever the engine does.
        Assert.InRange(sent.VideoFrames, 0.9 * Fps * sent.Seconds, 1.1 * Fps * sent.Seconds);
        Assert.InRange(sent.AudioPackets, 0.9 * 50 * sent.Seconds, 1.1 * 50 * sent.Seconds);
        await AssertRecordingAsync(engine, stream, sent);
    }

    [Fact]
    public async Task PionPublishesH264AndOpusFiles()
    {
        var build = Tools.Run("/bin/bash", $"\"{Path.Combine(PeersDir, "build-pionwhip.sh")}\"", timeoutMs: 300_000);
        Assert.True(build.Code == 0, "building peers/pionwhip failed: " + build.Stderr + build.Stdout);
        string pion = build.Stdout.Trim();

        using var engine = new EngineProcess();
        const string stream = "pion";
        // Pion sends encoded media: a second more than it sends, x264 Constrained Baseline and 20 ms Opus
        // packets one to an Ogg page (its oggreader gives a page's payload whole).
        string h264 = Path.Combine(engine.Directory, "testsrc.h264");
        string ogg = Path.Combine(engine.Directory, "sine.ogg");
        string mediaSeconds = (PublishSeconds + 1).ToString(CultureInfo.InvariantCulture);
        var ffmpeg = Tools.Require("ffmpeg");
        var v = Tools.Run(ffmpeg, $"-v error -y -f lavfi -i testsrc=size=640x480:rate={Fps}:duration={mediaSeconds} -c:v libx264 -profile:v baseline -pix_fmt yuv420p -g 60 -preset veryfast -f h264 \"{h264}\"");
        Assert.True(v.Code == 0, v.Stderr);
        var a = Tools.Run(ffmpeg, $"-v error -y -f lavfi -i sine=frequency=440:sample_rate=48000:duration={mediaSeconds} -c:a libopus -b:a 64k -frame_duration 20 -page_duration 20000 \"{ogg}\"");
        Assert.True(a.Code == 0, a.Stderr);

        var sent = RunPublisher(engine, pion,
            $"-url http://127.0.0.1:{engine.HttpPort}/whip/{stream} -h264 \"{h264}\" -ogg \"{ogg}\" -seconds {PublishSeconds.ToString(CultureInfo.InvariantCulture)}");
        Assert.Equal((long)(Fps * PublishSeconds), sent.VideoFrames);
        Assert.Equal((long)(50 * PublishSeconds), sent.AudioPackets);
        await AssertRecordingAsync(engine, stream, sent);
    }

    private static async Task AssertRecordingAsync(EngineProcess engine, string stream, Sent sent)
    {
        // The DELETE ended the session; the recording is closed when the session count is back to 0.
        await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("sessions").GetInt32(), n => n == 0, TimeSpan.FromSeconds(15), "the session to end");
        string flv = Path.Combine(engine.Directory, "recordings", stream + ".flv");
        Assert.True(File.Exists(flv), "no recording at " + flv + "\n" + engine.Output);

        var probe = Tools.Run(Tools.Require("ffprobe"), $"-v error -count_frames -show_entries stream=codec_type,codec_name,profile,width,height,nb_read_frames -of json \"{flv}\"");
        Assert.Equal(0, probe.Code);
        var streams = JsonDocument.Parse(probe.Stdout).RootElement.GetProperty("streams").EnumerateArray().ToList();
        var video = streams.Single(s => s.GetProperty("codec_type").GetString() == "video");
        var audio = streams.Single(s => s.GetProperty("codec_type").GetString() == "audio");
        var (videoSpan, audioSpan, shortSteps) = TrackSpans(flv);
        string summary = $"sent {sent}; recorded video {videoSpan:0.000} s ({shortSteps} frames under 10 ms after the one before), audio {audioSpan:0.000} s, {probe.Stdout}";

        // Decode every frame and hand the null muxer FLV's own millisecond timestamps (-enc_time_base -1):
        // rescaled to 1/30 s, a 33 ms step at an unlucky phase rounds onto the frame before and ffmpeg
        // reports "non monotonically increasing dts" for a file whose steps are all 33-34 ms.
        var decode = Tools.Run(Tools.Require("ffmpeg"), $"-v error -i \"{flv}\" -fps_mode passthrough -enc_time_base -1 -f null -");
        var errors = decode.Stderr.Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(decode.Code == 0 && errors.Length == 0,
            $"ffmpeg decoding {flv}: exit {decode.Code}, {errors.Length} error lines, the first: {string.Join("\n", errors.Take(5))}\n{summary}");

        Assert.Equal("h264", video.GetProperty("codec_name").GetString());
        Assert.Equal("aac", audio.GetProperty("codec_name").GetString());
        Assert.Equal(640, video.GetProperty("width").GetInt32());
        Assert.Equal(480, video.GetProperty("height").GetInt32());
        long frames = long.Parse(video.GetProperty("nb_read_frames").GetString()!, CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(frames - sent.VideoFrames) <= 0.1 * sent.VideoFrames, $"{frames} video frames recorded, {sent.VideoFrames} sent; {summary}");

        // The recording's timeline, per track from its packets: as long as the media sent, within 5%.
        Assert.True(Math.Abs(videoSpan - sent.Seconds) <= 0.05 * sent.Seconds, $"video spans {videoSpan:0.000} s of {sent.Seconds:0.000} s sent; {summary}");
        Assert.True(Math.Abs(audioSpan - sent.Seconds) <= 0.05 * sent.Seconds, $"audio spans {audioSpan:0.000} s of {sent.Seconds:0.000} s sent; {summary}");
    }

    /// <summary>First packet's start to last packet's end, per track, in seconds; video frames closer than 10 ms (a squashed timeline).</summary>
    private static (double Video, double Audio, int ShortVideoSteps) TrackSpans(string flv)
    {
        var p = Tools.Run(Tools.Require("ffprobe"), $"-v error -show_entries packet=codec_type,pts_time,duration_time -of csv=p=0 \"{flv}\"");
        Assert.Equal(0, p.Code);
        double vFirst = double.NaN, vEnd = double.NaN, aFirst = double.NaN, aEnd = double.NaN, vLast = double.NaN;
        int shortSteps = 0;
        foreach (var line in p.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Trim().Split(',');
            if (f.Length < 3 || !double.TryParse(f[1], CultureInfo.InvariantCulture, out double pts))
                continue;
            double.TryParse(f[2], CultureInfo.InvariantCulture, out double duration); // "N/A" for FLV video: 0
            if (f[0] == "video")
            {
                if (double.IsNaN(vFirst)) vFirst = pts;
                if (!double.IsNaN(vLast) && pts - vLast < 0.010) shortSteps++;
                vLast = pts;
                vEnd = double.IsNaN(vEnd) ? pts + duration : Math.Max(vEnd, pts + duration);
            }
            else if (f[0] == "audio")
            {
                if (double.IsNaN(aFirst)) aFirst = pts;
                aEnd = double.IsNaN(aEnd) ? pts + duration : Math.Max(aEnd, pts + duration);
            }
        }
        Assert.False(double.IsNaN(vFirst) || double.IsNaN(aFirst), "the recording has no video or no audio packets:\n" + p.Stdout[..Math.Min(p.Stdout.Length, 2000)]);
        return (vEnd - vFirst, aEnd - aFirst, shortSteps);
    }
}
