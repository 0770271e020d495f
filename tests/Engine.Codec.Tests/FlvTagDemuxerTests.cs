using System.Buffers.Binary;
using static Engine.Codec.Tests.FlvTestFiles;

namespace Engine.Codec.Tests;

/// <summary>The demuxer against FLV files ffmpeg made, frame for frame against ffprobe's packet list.</summary>
public sealed class FlvTagDemuxerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-flvdemux-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Demuxed(List<(long Dts, long Pts, int Size, bool Key, byte[] AnnexB, int Nals, bool SetsAdded, byte[] Tag)> Video,
        List<(long Pts, int Size)> Audio, List<FlvDemuxResult> VideoConfigs, List<FlvDemuxResult> AudioConfigs);

    private static Demuxed Demux(FlvTagDemuxer d, IEnumerable<Tag> tags, long offset = 0)
    {
        var r = new Demuxed(new(), new(), new(), new());
        foreach (var t in tags)
        {
            uint ms = (uint)(t.Millis + offset);
            if (t.Type == 9)
            {
                var res = d.DemuxVideo(ms, t.Body, out var f);
                if (res == FlvDemuxResult.Frame)
                    r.Video.Add((f.DtsMillis, f.PtsMillis, f.TagDataLength, f.Keyframe, f.AnnexB.ToArray(), f.NalCount, f.ParameterSetsAdded, t.Body));
                else
                    r.VideoConfigs.Add(res);
            }
            else if (t.Type == 8)
            {
                var res = d.DemuxAudio(ms, t.Body, out var a);
                if (res == FlvDemuxResult.Frame)
                    r.Audio.Add((a.Millis, a.Data.Length));
                else
                    r.AudioConfigs.Add(res);
            }
        }
        return r;
    }

    private static void AssertMatchesFfprobe(string path, Demuxed got, long offset = 0)
    {
        var packets = Packets(path);
        var video = packets.Where(p => p.CodecType == "video").ToList();
        var audio = packets.Where(p => p.CodecType == "audio").ToList();
        Assert.Equal(video.Count, got.Video.Count);
        for (int i = 0; i < video.Count; i++)
            Assert.Equal((video[i].Dts + offset, video[i].Pts + offset, video[i].Size, video[i].Key), (got.Video[i].Dts, got.Video[i].Pts, got.Video[i].Size, got.Video[i].Key));
        Assert.Equal(audio.Count, got.Audio.Count);
        for (int i = 0; i < audio.Count; i++)
            Assert.Equal((audio[i].Pts + offset, audio[i].Size), got.Audio[i]);
    }

    /// <summary>Annex B back to AVCC gives the tag's NAL units (after the SPS/PPS put in front of a key frame).</summary>
    private static void AssertAnnexBIsTheTag(Demuxed got, FlvTagDemuxer d)
    {
        foreach (var v in got.Video)
        {
            byte[] avcc = new byte[v.AnnexB.Length];
            int n = AvcConfig.AnnexBToAvcc(v.AnnexB, avcc);
            int skip = v.SetsAdded ? 8 + d.Sps.Length + d.Pps.Length : 0;
            Assert.Equal(v.Tag.AsSpan(5).ToArray(), avcc.AsSpan(skip, n - skip).ToArray());
        }
    }

    [Fact]
    public void HighProfileWithBFrames_AacLcStereo_FrameForFrame()
    {
        string path = Make(_dir, "high.flv", 2, HighWithBFrames, Aac(44100, 2));
        var d = new FlvTagDemuxer();
        var got = Demux(d, ReadTags(path));
        AssertMatchesFfprobe(path, got);
        Assert.Equal(60, got.Video.Count);
        Assert.Contains(got.Video, v => v.Pts != v.Dts); // B-frames reorder
        Assert.True(d.HasBFrames);
        Assert.Equal((100, 4), (d.Profile, d.NalLengthSize));
        Assert.Equal("High", Stream(path, "v:0", "profile"));
        Assert.Equal([FlvDemuxResult.Config, FlvDemuxResult.EndOfSequence], got.VideoConfigs); // ffmpeg ends with AVC end of sequence
        Assert.Equal(new AacAudioSpecificConfig(2, 44100, 2, 2), d.AudioConfig);
        Assert.Equal("LC,44100,2", Stream(path, "a:0", "profile,sample_rate,channels"));
        Assert.Equal([FlvDemuxResult.Config], got.AudioConfigs);

        // Every key frame starts with the sequence header's SPS and PPS (x264 puts none in band), and
        // the Annex B stream decodes with ffmpeg to the same 60 frames without an error.
        Assert.All(got.Video.Where(v => v.Key), v => Assert.True(v.SetsAdded));
        Assert.Equal(7, d.Sps[0] & 0x1F);
        Assert.Equal(8, d.Pps[0] & 0x1F);
        AssertAnnexBIsTheTag(got, d);
        string annexB = Path.Combine(_dir, "high.h264");
        File.WriteAllBytes(annexB, got.Video.SelectMany(v => v.AnnexB).ToArray());
        Assert.Equal("", TestMedia.DecodeErrors(annexB));
        var probed = Assert.Single(TestMedia.Probe(annexB));
        Assert.Equal((640, 480, 60), (probed.Width, probed.Height, probed.Frames));
    }

    [Fact]
    public void BaselineWithoutBFrames_AacLcMono48k_FrameForFrame()
    {
        string path = Make(_dir, "mono.flv", 2, Baseline320, Aac(48000, 1));
        var d = new FlvTagDemuxer();
        var got = Demux(d, ReadTags(path));
        AssertMatchesFfprobe(path, got);
        Assert.All(got.Video, v => Assert.Equal(v.Dts, v.Pts));
        Assert.False(d.HasBFrames);
        Assert.Equal(66, d.Profile);
        Assert.Equal(new AacAudioSpecificConfig(2, 48000, 1, 1), d.AudioConfig);
        Assert.Equal("LC,48000,1", Stream(path, "a:0", "profile,sample_rate,channels"));
        // 48 kHz AAC: 1024 samples a frame, 21.33 ms.
        var steps = got.Audio.Zip(got.Audio.Skip(1), (a, b) => b.Pts - a.Pts).Distinct().Order().ToList();
        Assert.Equal([21L, 22L], steps);
        AssertAnnexBIsTheTag(got, d);
    }

    [Fact]
    public void CodecChangeMidStream_IsReported_AndFramesFollowTheNewConfig()
    {
        // Two ffmpeg files back to back in one tag stream (as a publisher that restarts with other settings).
        string a = Make(_dir, "a.flv", 1, Baseline320, Aac(44100, 1));
        string b = Make(_dir, "b.flv", 1, HighWithBFrames, Aac(48000, 2));
        var d = new FlvTagDemuxer();
        var first = Demux(d, ReadTags(a));
        Assert.Equal((66, 1, 1), (d.Profile, d.VideoConfigVersion, d.AudioConfigVersion));
        Assert.False(d.HasBFrames);
        byte[] oldSps = d.Sps.ToArray();
        long offset = first.Video[^1].Dts + 67;
        var second = Demux(d, ReadTags(b), offset);
        Assert.Equal([FlvDemuxResult.ConfigChanged, FlvDemuxResult.EndOfSequence], second.VideoConfigs);
        Assert.Equal([FlvDemuxResult.ConfigChanged], second.AudioConfigs);
        Assert.Equal((100, 2, 2), (d.Profile, d.VideoConfigVersion, d.AudioConfigVersion));
        Assert.NotEqual(oldSps, d.Sps.ToArray());
        Assert.True(d.HasBFrames);
        Assert.Equal(new AacAudioSpecificConfig(2, 48000, 2, 2), d.AudioConfig);
        AssertMatchesFfprobe(a, first);
        AssertMatchesFfprobe(b, second, offset);
        AssertAnnexBIsTheTag(second, d);

        // The same header again is no change.
        var avcC = ReadTags(b).First(t => t.Type == 9).Body;
        Assert.Equal(FlvDemuxResult.ConfigRepeated, d.DemuxVideo(0, avcC, out _));
        Assert.Equal(2, d.VideoConfigVersion);
    }

    [Fact]
    public void SteadyDemux_AllocatesNothing()
    {
        string path = Make(_dir, "alloc.flv", 2, HighWithBFrames, Aac(44100, 2));
        var tags = ReadTags(path);
        var d = new FlvTagDemuxer();
        long sum = 0;
        void Pass(uint offset)
        {
            foreach (var t in tags)
            {
                if (t.Type == 9 && d.DemuxVideo(t.Millis + offset, t.Body, out var f) == FlvDemuxResult.Frame)
                    sum += f.AnnexB.Length + f.NalCount;
                else if (t.Type == 8 && d.DemuxAudio(t.Millis + offset, t.Body, out var a) == FlvDemuxResult.Frame)
                    sum += a.Data.Length;
            }
        }
        Pass(0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (uint i = 1; i <= 10; i++)
            Pass(i * 2000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(11 * 60, d.VideoFrames);
        Assert.True(sum > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void TimestampsUnwrapPast32Bits()
    {
        var d = new FlvTagDemuxer();
        d.DemuxAudio(0, [0xAF, 0, 0x12, 0x10], out _);
        Assert.Equal(FlvDemuxResult.Frame, d.DemuxAudio(0xFFFFFFF0, [0xAF, 1, 1], out var a));
        Assert.Equal(0xFFFFFFF0L, a.Millis);
        Assert.Equal(FlvDemuxResult.Frame, d.DemuxAudio(0x10, [0xAF, 1, 1], out a));
        Assert.Equal(0x1_0000_0010L, a.Millis);
    }

    [Theory]
    [InlineData(new byte[] { 0x12, 0x10 }, 2, 44100, 2)]
    [InlineData(new byte[] { 0x11, 0x88 }, 2, 48000, 1)]
    [InlineData(new byte[] { 0x13, 0x88 }, 2, 22050, 1)] // 00010 0111 0001
    [InlineData(new byte[] { 0x2B, 0x92, 0x08, 0x00 }, 5, 22050, 2)] // HE-AAC (SBR) signalled explicitly: base config
    [InlineData(new byte[] { 0x17, 0x80, 0x0B, 0xB8, 0x10 }, 2, 6000, 2)] // explicit rate (index 15): 0x001770 = 6000
    [InlineData(new byte[] { 0xF8, 0x46, 0x40 }, 34, 48000, 2)] // escape: object type 31 + 6 bits (34 = layer 3)
    public void AudioSpecificConfig_Fields(byte[] asc, int objectType, int rate, int channels)
    {
        Assert.True(AacAudioSpecificConfig.TryParse(asc, out var c));
        Assert.Equal((objectType, rate, channels), (c.ObjectType, c.SampleRate, c.Channels));
    }

    [Theory]
    [InlineData(new byte[] { 0x12 })]
    [InlineData(new byte[] { 0x07, 0x90 })] // object type 0
    [InlineData(new byte[] { 0x16, 0x90 })] // rate index 13
    [InlineData(new byte[] { 0x17, 0x80, 0x01 })] // explicit rate cut short
    public void AudioSpecificConfig_Bad(byte[] asc) => Assert.False(AacAudioSpecificConfig.TryParse(asc, out _));

    [Fact]
    public void BadTags_AreCountedAndDropped()
    {
        var d = new FlvTagDemuxer();
        Assert.Equal(FlvDemuxResult.NoConfig, d.DemuxVideo(0, [0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41], out _));
        Assert.Equal(FlvDemuxResult.NoConfig, d.DemuxAudio(0, [0xAF, 1, 1], out _));
        Assert.Equal(2, d.FramesBeforeConfig);
        Assert.Equal(FlvDemuxResult.Unsupported, d.DemuxVideo(0, [0x22, 0, 0], out _)); // Sorenson H.263
        Assert.Equal(2, d.LastUnsupportedCodec);
        Assert.Equal(FlvDemuxResult.Unsupported, d.DemuxVideo(0, [0x90, (byte)'h', (byte)'v', (byte)'c', (byte)'1'], out _)); // enhanced RTMP
        Assert.Equal(-1, d.LastUnsupportedCodec);
        Assert.Equal(FlvDemuxResult.Unsupported, d.DemuxAudio(0, [0x2F, 0xFF], out _)); // MP3
        Assert.Equal(3, d.Unsupported);

        byte[] avcC = [1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1, 0, 4, 0x67, 0x42, 0xC0, 0x1E, 1, 0, 2, 0x68, 0xCE];
        Assert.Equal(FlvDemuxResult.Malformed, d.DemuxVideo(0, [0x17, 0, 0, 0, 0, .. avcC[..10]], out _)); // SPS cut short
        byte[] threeByteLengths = [.. avcC];
        threeByteLengths[4] = 0xFE;
        Assert.Equal(FlvDemuxResult.Malformed, d.DemuxVideo(0, [0x17, 0, 0, 0, 0, .. threeByteLengths], out _));
        Assert.Equal(FlvDemuxResult.Config, d.DemuxVideo(0, [0x17, 0, 0, 0, 0, .. avcC], out _));
        Assert.Equal(FlvDemuxResult.Malformed, d.DemuxVideo(0, [0x27, 1, 0, 0, 0, 0, 0, 0, 9, 0x41], out _)); // NAL length past the end
        Assert.Equal(FlvDemuxResult.Malformed, d.DemuxVideo(0, [0x27, 1, 0, 0, 0, 0, 0], out _)); // a length cut short
        Assert.Equal(FlvDemuxResult.Malformed, d.DemuxVideo(0, [0x27, 1, 0, 0], out _));
        Assert.Equal(FlvDemuxResult.Malformed, d.DemuxVideo(0, [0x27, 7, 0, 0, 0], out _));
        Assert.Equal(FlvDemuxResult.EndOfSequence, d.DemuxVideo(0, [0x17, 2, 0, 0, 0], out _));
        Assert.Equal(6, d.Malformed);

        // A frame with a 2-byte-length config and a negative composition offset.
        byte[] two = [.. avcC];
        two[4] = 0xFD;
        Assert.Equal(FlvDemuxResult.ConfigChanged, d.DemuxVideo(0, [0x17, 0, 0, 0, 0, .. two], out _));
        Assert.Equal(FlvDemuxResult.Frame, d.DemuxVideo(100, [0x17, 1, 0xFF, 0xFF, 0xDF, 0, 2, 0x65, 0x88, 0, 1, 0x06], out var f));
        Assert.Equal((100L, 67L, -33, true, 4), (f.DtsMillis, f.PtsMillis, f.CompositionMillis, f.Keyframe, f.NalCount));
        Assert.Equal(new byte[] { 0x65, 0x88 }, f.Nal(2).ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1E, 0, 0, 0, 1, 0x68, 0xCE, 0, 0, 0, 1, 0x65, 0x88, 0, 0, 0, 1, 0x06 }, f.AnnexB.ToArray());
    }

    [Fact]
    public void RandomTags_NeverThrow()
    {
        var rng = new Random(3);
        var d = new FlvTagDemuxer();
        byte[] avcC = [0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1E, 0xFF, 0xE1, 0, 4, 0x67, 0x64, 0, 0x1E, 1, 0, 2, 0x68, 0xCE];
        d.DemuxVideo(0, avcC, out _);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] tag = new byte[rng.Next(0, 64)];
            rng.NextBytes(tag);
            if (tag.Length > 1 && i % 2 == 0)
            {
                tag[0] = (byte)((tag[0] & 0xF0) | 7);
                tag[1] = (byte)(tag[1] & 1);
            }
            d.DemuxVideo((uint)i, tag, out _);
            d.DemuxAudio((uint)i, tag, out _);
        }
        Assert.True(d.Malformed > 0);
    }
}
