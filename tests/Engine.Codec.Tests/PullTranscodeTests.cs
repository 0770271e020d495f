using Engine.Codec.Native;
using Engine.Rtp.Media;
using static Engine.Codec.Tests.FlvTestFiles;

namespace Engine.Codec.Tests;

/// <summary>
/// Issue 15: what an RTMP pull transcodes, from ffmpeg-made FLV files: AAC to Opus 48 kHz (checked
/// with libavcodec's opus decoder) and H.264 High with B-frames to Constrained Baseline in presentation order.
/// </summary>
public sealed unsafe class PullTranscodeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-pulltranscode-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class OpusSink : IOpusPacketSink
    {
        public readonly List<(byte[] Opus, long Millis)> Packets = new();
        public void OnOpusPacket(ReadOnlySpan<byte> opus, long millis) => Packets.Add((opus.ToArray(), millis));
    }

    private sealed class CountingSink : IOpusPacketSink
    {
        public int Count;
        public void OnOpusPacket(ReadOnlySpan<byte> opus, long millis) => Count++;
    }

    private sealed class VideoSink : IVideoPacketSink
    {
        public readonly List<(byte[] AnnexB, long Millis, bool Key)> Frames = new();
        public void OnVideoPacket(ReadOnlySpan<byte> annexB, long millis, bool isKeyframe) => Frames.Add((annexB.ToArray(), millis, isKeyframe));
    }

    /// <summary>The file's AudioSpecificConfig and raw AAC frames, through our demuxer.</summary>
    private static (byte[] Asc, List<(byte[] Aac, long Millis)> Frames) AacOf(string path)
    {
        using var d = new FlvTagDemuxer();
        var frames = new List<(byte[], long)>();
        byte[]? asc = null;
        foreach (var t in ReadTags(path).Where(t => t.Type == 8))
        {
            var r = d.DemuxAudio(t.Millis, t.Body, out var a);
            if (r == FlvDemuxResult.Config)
                asc = d.AudioSpecificConfig.ToArray();
            else if (r == FlvDemuxResult.Frame)
                frames.Add((a.Data.ToArray(), a.Millis));
        }
        Assert.NotNull(asc);
        return (asc!, frames);
    }

    /// <summary>Decodes with libavcodec's opus decoder: samples per channel and the mean square of all of them.</summary>
    private static (long Samples, double Energy) DecodeOpus(IEnumerable<byte[]> packets, int channels)
    {
        using var dec = AvCodecContext.Open(AvCodec.avcodec_find_decoder(AvLayout.CodecIdOpus), "opus decoder", c =>
        {
            c.SetInt(AvLayout.CtxSampleRate, 48000);
            c.SetDefaultChannelLayout(channels);
        });
        using var pkt = new AvPacket();
        using var frame = new AvFrame();
        long samples = 0, pts = 0;
        double sum = 0;
        foreach (var p in packets)
        {
            fixed (byte* b = p)
            {
                pkt.Borrow(b, p.Length, pts, pts, 0, true);
                Assert.True(dec.SendPacket(pkt) >= 0);
                pkt.Unref();
            }
            pts += 960;
            while (dec.ReceiveFrame(frame) >= 0)
            {
                Assert.Equal(channels, frame.Channels);
                Assert.Equal(48000, frame.SampleRate);
                Assert.Equal(AvLayout.SampleFmtFltp, frame.Format);
                for (int ch = 0; ch < channels; ch++)
                {
                    float* s = (float*)frame.ExtendedData[ch];
                    for (int i = 0; i < frame.Samples; i++)
                        sum += s[i] * (double)s[i];
                }
                samples += frame.Samples;
                frame.Unref();
            }
        }
        return (samples, samples == 0 ? 0 : sum / (samples * channels));
    }

    [Theory]
    [InlineData(44100, 1)]
    [InlineData(48000, 1)]
    [InlineData(44100, 2)]
    [InlineData(48000, 2)]
    public void AacBecomesOpusAt48kHzWithTheSourcesChannels(int rate, int channels)
    {
        FfmpegLibrary.Load();
        var (asc, frames) = AacOf(Make(_dir, $"aac{rate}{channels}.flv", 2, null, Aac(rate, channels)));
        using var t = new OpusTranscoder(asc);
        Assert.Equal(channels, t.Channels);
        var sink = new OpusSink();
        foreach (var (aac, ms) in frames)
            t.Transcode(aac, ms, sink);
        Assert.Equal(0, t.DecodeErrors);
        Assert.Equal(frames.Count, t.FramesDecoded);
        // The decoded AAC (1024 samples a frame) in 20 ms frames, less what the resampler, FIFO and encoder still hold.
        int expected = (int)((long)frames.Count * 1024 * 48000 / rate / 960);
        Assert.InRange(sink.Packets.Count, expected - 4, expected);
        Assert.All(sink.Packets, p => Assert.Equal(channels == 2, AudioTranscoder.IsStereo(p.Opus))); // RFC 6716 §3.1 TOC
        for (int i = 1; i < sink.Packets.Count; i++)
            Assert.InRange(sink.Packets[i].Millis - sink.Packets[i - 1].Millis, 19, 21);
        Assert.InRange(sink.Packets[0].Millis, frames[0].Millis - 30, frames[0].Millis + 30);
        var (samples, energy) = DecodeOpus(sink.Packets.Select(p => p.Opus), channels);
        Assert.Equal(sink.Packets.Count * 960L, samples);
        // ffmpeg's sine source is at 1/8 of full scale: a mean square near 0.0078; a silent or broken stream is far below.
        Assert.True(energy > 0.001, $"mean square {energy}");
    }

    [Fact]
    public void SurroundIsDownmixedToStereo()
    {
        FfmpegLibrary.Load();
        var (asc, frames) = AacOf(Make(_dir, "aac51.flv", 1, null, ["sine=frequency=440:sample_rate=48000", "-c:a", "aac", "-ac", "6", "-b:a", "192k"]));
        using var t = new OpusTranscoder(asc);
        Assert.Equal(2, t.Channels);
        var sink = new OpusSink();
        foreach (var (aac, ms) in frames)
            t.Transcode(aac, ms, sink);
        Assert.True(sink.Packets.Count > 40, $"{sink.Packets.Count} packets");
        Assert.True(DecodeOpus(sink.Packets.Select(p => p.Opus), 2).Energy > 0.0001);
    }

    [Fact]
    public void BadAacIsCountedNotThrown()
    {
        FfmpegLibrary.Load();
        var (asc, frames) = AacOf(Make(_dir, "bad.flv", 1, null, Aac(48000, 2)));
        using var t = new OpusTranscoder(asc);
        var sink = new OpusSink();
        var rng = new Random(15);
        for (int i = 0; i < 200; i++)
        {
            var junk = new byte[rng.Next(1, 600)];
            rng.NextBytes(junk);
            t.Transcode(junk, i * 21, sink);
        }
        Assert.True(t.DecodeErrors > 0);
        int before = sink.Packets.Count;
        foreach (var (aac, ms) in frames)
            t.Transcode(aac, 10_000 + ms, sink); // good frames after junk still come out
        Assert.True(sink.Packets.Count - before > 20, $"{sink.Packets.Count - before} packets after the junk");
        Assert.Throws<ArgumentException>(() => new OpusTranscoder([0xFF]));
    }

    [Fact]
    public void OpusTranscodeAllocatesNothingOnceWarm()
    {
        FfmpegLibrary.Load();
        var (asc, frames) = AacOf(Make(_dir, "alloc.flv", 2, null, Aac(44100, 2)));
        using var t = new OpusTranscoder(asc);
        var sink = new CountingSink();
        for (int i = 0; i < 20; i++)
            t.Transcode(frames[i].Aac, frames[i].Millis, sink);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 20; i < frames.Count; i++)
            t.Transcode(frames[i].Aac, frames[i].Millis, sink);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(sink.Count > 50);
        Assert.Equal(0, allocated);
    }

    private static List<(byte[] AnnexB, long Dts, long Pts, bool Key)> VideoOf(string path)
    {
        using var d = new FlvTagDemuxer();
        var frames = new List<(byte[], long, long, bool)>();
        foreach (var t in ReadTags(path).Where(t => t.Type == 9))
            if (d.DemuxVideo(t.Millis, t.Body, out var f) == FlvDemuxResult.Frame)
                frames.Add((f.AnnexB.ToArray(), f.DtsMillis, f.PtsMillis, f.Keyframe));
        return frames;
    }

    private static List<byte[]> Nals(byte[] annexB)
    {
        var nals = new List<byte[]>();
        int start = -1;
        for (int i = 0; i + 3 <= annexB.Length; i++)
        {
            if (annexB[i] == 0 && annexB[i + 1] == 0 && annexB[i + 2] == 1)
            {
                if (start >= 0)
                    nals.Add(annexB[start..(i > 0 && annexB[i - 1] == 0 ? i - 1 : i)]);
                start = i + 3;
                i += 2;
            }
        }
        if (start >= 0)
            nals.Add(annexB[start..]);
        return nals;
    }

    [Fact]
    public void BFramesBecomeConstrainedBaselineInPresentationOrderWithAnIdrOnRequest()
    {
        FfmpegLibrary.Load();
        var frames = VideoOf(Make(_dir, "high.flv", 3, HighWithBFrames, null));
        Assert.Contains(frames, f => f.Pts != f.Dts); // the source does reorder
        using var t = new VideoTranscoder(new VideoEncoderSettings(GopFrames: 600), annexB: true);
        var sink = new VideoSink();
        int requestedAt = -1;
        foreach (var f in frames)
        {
            if (sink.Frames.Count == 40 && requestedAt < 0)
            {
                t.RequestKeyframe();
                requestedAt = sink.Frames.Count;
            }
            t.Transcode(MediaCodec.H264, f.AnnexB, f.Dts, f.Pts, sink);
        }
        Assert.Equal(0, t.DecodeErrors);
        Assert.InRange(sink.Frames.Count, frames.Count - 4, frames.Count);
        Assert.Equal((640, 480), (t.Width, t.Height));
        var sourcePts = frames.Select(f => f.Pts).Order().ToList();
        for (int i = 0; i < sink.Frames.Count; i++)
            Assert.Equal(sourcePts[i], sink.Frames[i].Millis); // presentation order, the source's clock
        Assert.True(sink.Frames[0].Key);
        var sps = Nals(sink.Frames[0].AnnexB).First(n => (n[0] & 0x1F) == 7);
        Assert.True(AvcConfig.IsConstrainedBaseline(sps), Convert.ToHexString(sps[..4]));
        Assert.Contains(Nals(sink.Frames[0].AnnexB), n => (n[0] & 0x1F) == 8); // PPS with the IDR
        // GOP 600: the only other key frames are the requested one (its encode may lag a frame).
        var keys = sink.Frames.Select((f, i) => (f.Key, i)).Where(x => x.Key).Select(x => x.i).ToList();
        Assert.Equal(2, keys.Count);
        Assert.InRange(keys[1], requestedAt, requestedAt + 2);
        Assert.Contains(Nals(sink.Frames[keys[1]].AnnexB), n => (n[0] & 0x1F) == 5);
    }
    [Fact]
    public void H264BecomesVp8ThatLibavcodecDecodesWithAKeyframeOnRequest()
    {
        FfmpegLibrary.Load();
        var frames = VideoOf(Make(_dir, "high-vp8.flv", 2, HighWithBFrames, null));
        using var t = new VideoTranscoder(new VideoEncoderSettings(GopFrames: 600, BitRate: 800_000), annexB: true, output: MediaCodec.Vp8);
        var sink = new VideoSink();
        int requestedAt = -1;
        foreach (var f in frames)
        {
            if (sink.Frames.Count == 20 && requestedAt < 0)
            {
                t.RequestKeyframe();
                requestedAt = sink.Frames.Count;
            }
            t.Transcode(MediaCodec.H264, f.AnnexB, f.Dts, f.Pts, sink);
        }
        Assert.Equal(0, t.DecodeErrors);
        Assert.InRange(sink.Frames.Count, frames.Count - 4, frames.Count); // lag 0: a frame out per frame in, less the decoder's reorder delay
        Assert.Equal((640, 480), (t.Width, t.Height));
        // RFC 6386 §9.1: frame tag bit 0 clear on a keyframe, then 9d 01 2a and the 14-bit sizes.
        var first = sink.Frames[0].AnnexB;
        Assert.True(sink.Frames[0].Key);
        Assert.Equal(0, first[0] & 1);
        Assert.Equal(new byte[] { 0x9d, 0x01, 0x2a }, first[3..6]);
        Assert.Equal(640, BitConverter.ToUInt16(first, 6) & 0x3fff);
        Assert.Equal(480, BitConverter.ToUInt16(first, 8) & 0x3fff);
        var keys = sink.Frames.Select((f, i) => (f.Key, i)).Where(x => x.Key).Select(x => x.i).ToList();
        Assert.Equal(2, keys.Count);
        Assert.InRange(keys[1], requestedAt, requestedAt + 2);
        Assert.All(sink.Frames, f => Assert.Equal(f.Key, (f.AnnexB[0] & 1) == 0));
        using var dec = AvCodecContext.Open(AvCodec.avcodec_find_decoder(AvLayout.CodecIdVp8), "vp8 decoder", _ => { });
        using var pkt = new AvPacket();
        using var frame = new AvFrame();
        int decoded = 0;
        foreach (var (vp8, ms, key) in sink.Frames)
        {
            fixed (byte* b = vp8)
            {
                pkt.Borrow(b, vp8.Length, ms, ms, 0, key);
                Assert.True(dec.SendPacket(pkt) >= 0, $"frame {decoded}");
                pkt.Unref();
            }
            while (dec.ReceiveFrame(frame) >= 0)
            {
                Assert.Equal((640, 480), (frame.Width, frame.Height));
                decoded++;
                frame.Unref();
            }
        }
        Assert.Equal(sink.Frames.Count, decoded);
    }
}
