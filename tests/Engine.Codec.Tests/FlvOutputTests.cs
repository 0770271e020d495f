using Engine.Host.Output;
using Engine.Rtp.Media;
using Xunit;

namespace Engine.Codec.Tests;

public sealed class FlvOutputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-flv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly TrackInfo Opus = new(MediaCodec.Opus, 48000, 2, 111);
    private static TrackInfo Video(MediaCodec c) => new(c, 90000, 0, 96);

    /// <summary>Feeds video at 15 fps and 20 ms Opus packets as a browser would send them, SR mapping from the second second.</summary>
    private static void Feed(FlvOutput output, IReadOnlyList<(byte[] Data, bool Key)> video, MediaCodec codec, List<byte[]>? audio, int width = 0, int height = 0,
        int videoTrack = 0, int audioTrack = 1)
    {
        const long t0 = 5_000_000;
        const long ntp0 = 3_900_000_000_000_000;
        uint vts0 = 123_456_789, ats0 = 4_000_000_000; // audio wraps the 32-bit timestamp mid-test
        int vi = 0, ai = 0;
        long videoStep = 1_000_000 / 15, audioStep = 20_000;
        while (vi < video.Count || (audio != null && ai < audio.Count))
        {
            long vt = vi < video.Count ? vi * videoStep : long.MaxValue;
            long at = audio != null && ai < audio.Count ? ai * audioStep : long.MaxValue;
            if (vt <= at)
            {
                var (data, key) = video[vi];
                long ntp = vt >= 1_000_000 ? ntp0 + vt : -1;
                output.Enqueue(videoTrack, new EncodedFrame(codec, data, vts0 + (uint)(vi * 6000), 90000, ntp, t0 + vt + 15_000, key, key ? width : 0, key ? height : 0));
                vi++;
            }
            else
            {
                long ntp = at >= 1_000_000 ? ntp0 + at : -1;
                output.Enqueue(audioTrack, new EncodedFrame(MediaCodec.Opus, audio![ai], unchecked(ats0 + (uint)(ai * 960)), 48000, ntp, t0 + at + 5_000, false));
                ai++;
            }
            if (vi % 8 == 0)
                Thread.Sleep(1); // let the writer keep up; the queue is bounded
        }
    }

    private static void Finish(FlvOutput output)
    {
        output.Complete();
        Assert.True(output.Completion.Wait(TimeSpan.FromSeconds(60)), "the output did not close");
        output.Dispose();
    }

    [Fact]
    public void ConstrainedBaseline_IsRemuxed_OpusBecomesAac()
    {
        var video = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var audio = TestMedia.OpusPackets(100);
        string path = Path.Combine(_dir, "cb.flv");
        var output = new FlvOutput(path, [Video(MediaCodec.H264), Opus], new FlvOutputOptions { Retry = false }, "test");
        Feed(output, video, MediaCodec.H264, audio, 320, 240);
        Finish(output);
        Assert.Equal("closed", output.State);
        Assert.Equal("remux H264", output.Mode);
        var streams = TestMedia.Probe(path);
        var v = Assert.Single(streams, s => s.CodecName == "h264");
        var a = Assert.Single(streams, s => s.CodecName == "aac");
        Assert.Equal((320, 240), (v.Width, v.Height));
        Assert.Equal("Constrained Baseline", v.Profile);
        Assert.Equal(video.Count, v.Frames);
        Assert.Equal(video.Count, output.VideoFramesWritten);
        // 100 x 20 ms of Opus = 2 s = ~93 AAC frames of 1024 samples (less the first partial ones).
        Assert.InRange(a.Frames, 85, 95);
        Assert.Equal("LC", a.Profile);
        Assert.Equal("", TestMedia.DecodeErrors(path));
    }

    [Theory]
    [InlineData("main-640x360.h264", MediaCodec.H264, 640, 360)]
    [InlineData("vp8-320x240.ivf", MediaCodec.Vp8, 320, 240)]
    [InlineData("vp9-320x240.ivf", MediaCodec.Vp9, 320, 240)]
    public void OtherCodecs_AreTranscodedToConstrainedBaseline(string file, MediaCodec codec, int width, int height)
    {
        var bytes = File.ReadAllBytes(TestMedia.Data(file));
        var video = codec == MediaCodec.H264 ? TestMedia.H264AccessUnits(bytes) : TestMedia.IvfFrames(bytes, codec == MediaCodec.Vp9);
        string path = Path.Combine(_dir, "t.flv");
        var output = new FlvOutput(path, [Video(codec)], new FlvOutputOptions { Retry = false }, "test");
        Feed(output, video, codec, null);
        Finish(output);
        Assert.StartsWith("transcode", output.Mode);
        var v = Assert.Single(TestMedia.Probe(path));
        Assert.Equal("h264", v.CodecName);
        Assert.Equal("Constrained Baseline", v.Profile);
        Assert.Equal((width, height), (v.Width, v.Height));
        Assert.Equal(video.Count, v.Frames);
        Assert.Equal("", TestMedia.DecodeErrors(path));
    }

    [Fact]
    public void AudioOnly_Works()
    {
        string path = Path.Combine(_dir, "a.flv");
        var output = new FlvOutput(path, [Opus], new FlvOutputOptions { Retry = false }, "test");
        Feed(output, [], MediaCodec.H264, TestMedia.OpusPackets(50), audioTrack: 0);
        Finish(output);
        Assert.Equal("audio only", output.Mode);
        var a = Assert.Single(TestMedia.Probe(path));
        Assert.Equal("aac", a.CodecName);
        Assert.InRange(a.Frames, 40, 48);
    }

    [Fact]
    public void OutputStartsOnAKeyframe_AndAsksForOne()
    {
        var video = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        int firstDelta = video.FindIndex(u => !u.Key);
        string path = Path.Combine(_dir, "k.flv");
        var output = new FlvOutput(path, [Video(MediaCodec.H264)], new FlvOutputOptions { Retry = false }, "test");
        Assert.True(output.TakeKeyframeRequest()); // asks at start
        Assert.False(output.TakeKeyframeRequest());
        // Start mid-GOP: the frames before the next keyframe are dropped, not written broken.
        var fromMidGop = video.Skip(firstDelta).ToList();
        Feed(output, fromMidGop, MediaCodec.H264, null);
        Finish(output);
        int dropped = fromMidGop.FindIndex(u => u.Key);
        Assert.True(dropped > 0);
        Assert.Equal(fromMidGop.Count - dropped, Assert.Single(TestMedia.Probe(path)).Frames);
        Assert.Equal(dropped, output.FramesDropped);
        Assert.Equal("", TestMedia.DecodeErrors(path));
    }

    [Fact]
    public void ResolutionChange_WritesANewSequenceHeader()
    {
        var a = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        string second = Path.Combine(_dir, "b.h264");
        var (code, _, err) = TestMedia.Run("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=480x270:rate=15", "-t", "1", "-c:v", "libx264",
            "-profile:v", "baseline", "-g", "10", "-bf", "0", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "h264", second);
        Assert.True(code == 0, err);
        var b = TestMedia.H264AccessUnits(File.ReadAllBytes(second));
        string path = Path.Combine(_dir, "r.flv");
        var output = new FlvOutput(path, [Video(MediaCodec.H264)], new FlvOutputOptions { Retry = false }, "test");
        Feed(output, a.Concat(b).ToList(), MediaCodec.H264, null);
        Finish(output);
        var (_, frames, _) = TestMedia.Run("ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=width,height", "-of", "csv=p=0", path);
        var sizes = frames.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().TrimEnd(',')).Where(l => l.Length > 0).ToList(); // keyframes carry a side-data column
        Assert.Equal(a.Count + b.Count, sizes.Count);
        Assert.Equal(a.Count, sizes.Count(s => s == "320,240"));
        Assert.Equal(b.Count, sizes.Count(s => s == "480,270"));
        Assert.Equal("", TestMedia.DecodeErrors(path));
    }

    [Fact]
    public void UnwritableFile_FailsTheOutputNotTheCaller()
    {
        var video = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")));
        var output = new FlvOutput(Path.Combine(_dir, "no-such-dir", "x.flv"), [Video(MediaCodec.H264)], new FlvOutputOptions { Retry = false }, "test");
        Feed(output, video, MediaCodec.H264, null);
        Finish(output);
        Assert.StartsWith("failed", output.State);
        Assert.NotNull(output.LastError);
        Assert.Equal(video.Count, output.FramesDropped);
    }
}
