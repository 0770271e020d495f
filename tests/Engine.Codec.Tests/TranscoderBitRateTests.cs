using Engine.Rtp.Media;
using Xunit.Abstractions;
using static Engine.Codec.Tests.FlvTestFiles;

namespace Engine.Codec.Tests;

/// <summary>
/// Issue 16: <see cref="VideoTranscoder.SetBitRate"/> retargets an open encoder (x264 through FFmpeg's
/// reconfigure, libvpx through vpx_codec_enc_config_set). The encoded rate is measured over media
/// time (frame timestamps), so the figures do not depend on how loaded the machine is.
/// </summary>
public sealed class TranscoderBitRateTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-bitrate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A busy 640x480 picture (testsrc2 plus moving noise) so that 1.2 Mbit/s is not more than the encoder wants.
    private static readonly string[] Busy = ["testsrc2=size=640x480:rate=30,noise=alls=12:allf=t", "-c:v", "libx264", "-profile:v", "high", "-preset", "ultrafast",
        "-bf", "2", "-g", "30", "-pix_fmt", "yuv420p", "-b:v", "4M"];

    private sealed class ByteSink : IVideoPacketSink
    {
        public long Bytes, Frames, Keyframes;
        public void OnVideoPacket(ReadOnlySpan<byte> data, long millis, bool isKeyframe)
        {
            Bytes += data.Length;
            Frames++;
            if (isKeyframe)
                Keyframes++;
        }
    }

    private List<(byte[] AnnexB, long Dts, long Pts, bool Key)> Source(int seconds)
    {
        using var d = new FlvTagDemuxer();
        var frames = new List<(byte[], long, long, bool)>();
        foreach (var t in ReadTags(Make(_dir, "busy.flv", seconds, Busy, null)).Where(t => t.Type == 9))
            if (d.DemuxVideo(t.Millis, t.Body, out var f) == FlvDemuxResult.Frame)
                frames.Add((f.AnnexB.ToArray(), f.DtsMillis, f.PtsMillis, f.Keyframe));
        return frames;
    }

    /// <summary>Three phases of 4 s (1.2, 0.4, 1.2 Mbit/s); each phase's rate is measured over its last 3 s.</summary>
    private long[] Measure(MediaCodec output, int gop)
    {
        FfmpegLibrary.Load();
        long[] targets = [1_200_000, 400_000, 1_200_000];
        const int phaseFrames = 120, settleFrames = 30;
        var frames = Source(targets.Length * phaseFrames / 30 + 1);
        Assert.True(frames.Count >= targets.Length * phaseFrames, $"{frames.Count} source frames");
        using var t = new VideoTranscoder(new VideoEncoderSettings(GopFrames: gop, BitRate: targets[0]), annexB: true, output: output);
        var sink = new ByteSink();
        var rates = new long[targets.Length];
        long allocated = 0;
        for (int phase = 0; phase < targets.Length; phase++)
        {
            long bytesAtSettle = 0, framesAtSettle = 0;
            for (int i = 0; i < phaseFrames; i++)
            {
                var f = frames[phase * phaseFrames + i];
                if (i == settleFrames)
                    (bytesAtSettle, framesAtSettle) = (sink.Bytes, sink.Frames);
                long before = GC.GetAllocatedBytesForCurrentThread();
                t.SetBitRate(targets[phase]); // every frame, as the pull's encode thread does: unchanged costs nothing
                t.Transcode(MediaCodec.H264, f.AnnexB, f.Dts, f.Pts, sink);
                if (phase == targets.Length - 1) // the first change loads and binds libvpx; the last is warm
                    allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            }
            long n = sink.Frames - framesAtSettle;
            Assert.True(n > 60, $"phase {phase}: {n} frames");
            rates[phase] = (sink.Bytes - bytesAtSettle) * 8 * 30 / n;
            log.WriteLine($"{output} target {targets[phase] / 1000} kbit/s: measured {rates[phase] / 1000} kbit/s over {n} frames");
        }
        Assert.Equal(0, t.RateChangesRefused);
        Assert.Equal(targets[^1], t.BitRate);
        Assert.Equal(0, allocated); // the encode path and SetBitRate allocate nothing per frame
        Assert.True(sink.Keyframes <= targets.Length * phaseFrames / gop + 1, $"{sink.Keyframes} keyframes: a rate change must not force one");
        return rates;
    }

    [Fact]
    public void H264RateFollowsSetBitRate()
    {
        var r = Measure(MediaCodec.H264, 30);
        // Generous: it is a rate, and x264's ABR climbs back more slowly than it falls.
        Assert.InRange(r[0], 800_000, 1_600_000);
        Assert.InRange(r[1], 250_000, 560_000);
        Assert.InRange(r[2], 700_000, 1_600_000);
        Assert.True(r[1] < r[0] * 0.6 && r[1] < r[2] * 0.7, $"{r[0]} / {r[1]} / {r[2]}");
    }

    [Fact]
    public void Vp8RateFollowsSetBitRate()
    {
        var r = Measure(MediaCodec.Vp8, 60);
        Assert.InRange(r[0], 700_000, 1_600_000);
        Assert.InRange(r[1], 250_000, 600_000);
        Assert.InRange(r[2], 700_000, 1_600_000);
        Assert.True(r[1] < r[0] * 0.6 && r[1] < r[2] * 0.7, $"{r[0]} / {r[1]} / {r[2]}");
    }
}
