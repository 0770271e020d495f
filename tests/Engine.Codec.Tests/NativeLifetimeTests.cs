using System.Diagnostics;
using Engine.Codec.Native;
using Engine.Host.Output;
using Engine.Rtp.Media;
using Xunit;

namespace Engine.Codec.Tests;

public sealed unsafe class NativeLifetimeTests
{
    [Fact]
    public void FfmpegLoads_AndChecksItself()
    {
        Assert.True(FfmpegLibrary.TryLoad(out var error), error);
        Assert.Contains("avcodec 59.", FfmpegLibrary.Versions);
        Assert.True(FfmpegLibrary.TryLoadFormat(out error), error);
        Assert.Contains("avformat 59.", FfmpegLibrary.Versions);
    }

    private static long RssKb() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);

    [Fact]
    public void ThousandsOfOpenCloseCycles_KeepRssFlat()
    {
        string dir = Directory.CreateTempSubdirectory("engine-leak-").FullName;
        try
        {
            var unit = TestMedia.H264AccessUnits(File.ReadAllBytes(TestMedia.Data("baseline-320x240.h264")))[0];
            var opus = TestMedia.OpusPackets(3);
            void Cycle(int n)
            {
                for (int i = 0; i < n; i++)
                {
                    using var audio = new AudioTranscoder();
                    using var muxer = FlvMuxer.Open(Path.Combine(dir, "x.flv"), new FlvMuxer.VideoParameters(MakeAvcC(unit.Avcc), 320, 240),
                        new FlvMuxer.AudioParameters(audio.AudioSpecificConfig, 48000, 2), null, 1_000_000);
                    muxer.WriteVideo(unit.Avcc, 0, true, default);
                    muxer.Close();
                    using var video = new VideoTranscoder(new VideoEncoderSettings());
                    if (i % 20 == 0) // x264 contexts are big: fewer of them, still hundreds
                        video.Transcode(MediaCodec.H264, unit.Avcc, 0, NullVideo.Instance);
                }
            }
            long live = NativeObjects.Live;
            Cycle(200);
            Assert.Equal(live, NativeObjects.Live); // every packet, frame, codec and format context freed
            // Warm-up, then two equal runs: allocator growth settles in the first, a leak grows the same in both.
            Cycle(3000);
            GC.Collect();
            long start = RssKb();
            Cycle(3000);
            GC.Collect();
            long middle = RssKb();
            Cycle(3000);
            GC.Collect();
            long second = RssKb() - middle;
            // Allocator noise is a few MB; a leak is far more: an AAC encoder context is ~100s of KB, a
            // file muxer's I/O buffer 32 KB, an x264 one megabytes (3000 cycles each).
            Assert.True(second < 8_000, $"RSS grew {middle - start} KB, then {second} KB over 3000 open/close cycles each");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static byte[] MakeAvcC(byte[] avcc)
    {
        Assert.True(AvcConfig.TryFindParameterSets(avcc, out var sps, out var pps));
        var b = new byte[AvcConfig.AvcCLength(avcc[sps].Length, avcc[pps].Length)];
        AvcConfig.WriteAvcC(b, avcc[sps], avcc[pps]);
        return b;
    }

    private sealed class NullVideo : IVideoPacketSink
    {
        public static readonly NullVideo Instance = new();
        public void OnVideoPacket(ReadOnlySpan<byte> avcc, long millis, bool isKeyframe) { }
    }

    private sealed class Collect : IAudioPacketSink
    {
        public readonly List<(byte[] Aac, long Millis)> Packets = [];
        public void OnAudioPacket(ReadOnlySpan<byte> aac, long millis) => Packets.Add((aac.ToArray(), millis));
    }

    [Fact]
    public void AacEncoderZeroPages_AreGivenBack_AndTheOutputIsTheSame()
    {
        var opus = TestMedia.OpusPackets(4500); // past the periodic release at 4096 AAC frames
        using var released = new AudioTranscoder(2, releaseZeroPages: true);
        using var kept = new AudioTranscoder(2, releaseZeroPages: false);
        int residentReleased = ZeroPages.Resident(released.EncoderPrivate, out int pages);
        int residentKept = ZeroPages.Resident(kept.EncoderPrivate, out _);
        Assert.True(pages > 100, $"the AAC encoder's context is {pages} pages");
        Assert.True(residentKept >= pages - 2, $"{residentKept} of {pages} pages resident"); // av_mallocz touched every page (the edges may be shared)
        Assert.True(residentReleased < pages / 2, $"{residentReleased} of {pages} pages still resident");

        var a = new Collect();
        var b = new Collect();
        for (int i = 0; i < opus.Count; i++)
        {
            released.Transcode(opus[i], i * 20L, a);
            kept.Transcode(opus[i], i * 20L, b);
        }
        Assert.True(released.FramesEncoded > 4096);
        Assert.Equal(b.Packets.Count, a.Packets.Count);
        for (int i = 0; i < a.Packets.Count; i++)
        {
            Assert.Equal(b.Packets[i].Millis, a.Packets[i].Millis);
            Assert.True(b.Packets[i].Aac.AsSpan().SequenceEqual(a.Packets[i].Aac), $"AAC frame {i} differs");
        }
        residentReleased = ZeroPages.Resident(released.EncoderPrivate, out _);
        Assert.True(residentReleased < pages * 3 / 4, $"after encoding: {residentReleased} of {pages} pages resident");
    }

    [Fact]
    public void DoubleDispose_IsSafe()
    {
        var p = new AvPacket();
        p.Dispose();
        p.Dispose();
        var f = new AvFrame();
        f.Dispose();
        f.Dispose();
        var a = new AudioTranscoder();
        a.Dispose();
        var o = new FlvOutput("/dev/null", [new TrackInfo(MediaCodec.Opus, 48000, 2, 111)], new FlvOutputOptions(), "t");
        o.Dispose();
        o.Dispose();
        Assert.True(o.Completion.IsCompleted);
    }
}
