using Engine.Rtp.Send;
using Engine.Rtp.Tests.Video;
using Engine.Rtp.Video;

namespace Engine.Rtp.Tests.Send;

public class Vp8PacketizerTests
{
    private static List<(byte[] Data, bool Key, int W, int H)> RoundTrip(List<byte[]> frames, Vp8Packetizer p, List<int>? sizes = null)
    {
        var d = new Vp8Depacketizer();
        var got = new List<(byte[], bool, int, int)>();
        var buffer = new byte[p.MaxPayloadSize];
        long seq = 1000;
        uint ts = 0;
        foreach (var frame in frames)
        {
            int offset = 0;
            bool last;
            do
            {
                int n = p.Next(frame, ref offset, buffer, out last);
                Assert.True(n > Vp8Packetizer.DescriptorSize);
                sizes?.Add(n);
                d.Push(buffer.AsSpan(0, n), seq++, ts, last);
                while (d.TryPollFrame(out var f))
                    got.Add((f.Data.ToArray(), f.IsKeyframe, f.Width, f.Height));
            }
            while (!last);
            ts += 3000;
        }
        return got;
    }

    [Fact]
    public void FfmpegFramesComeBackThroughOurDepacketizer()
    {
        var frames = VpxDepacketizerTests.IvfFrames("vp8-320x240.ivf");
        var sizes = new List<int>();
        var p = new Vp8Packetizer(maxPayloadSize: 200);
        var got = RoundTrip(frames, p, sizes);
        Assert.Equal(frames.Count, got.Count);
        for (int i = 0; i < frames.Count; i++)
            Assert.True(frames[i].AsSpan().SequenceEqual(got[i].Data), $"frame {i} differs");
        Assert.Equal(3, got.Count(f => f.Key));
        Assert.All(got.Where(f => f.Key), f => Assert.Equal((320, 240), (f.W, f.H)));
        Assert.All(sizes, s => Assert.InRange(s, 5, 200));
        Assert.True(sizes.Count > frames.Count, "some frames must span packets");
        Assert.Equal(frames.Count, p.Frames);
        Assert.Equal(frames.Count & 0x7FFF, p.PictureId);
    }

    [Fact]
    public void DescriptorCarriesStartAndA15BitPictureIdThatWraps()
    {
        var p = new Vp8Packetizer(maxPayloadSize: 10, firstPictureId: 0x7FFF);
        byte[] frame = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        var dst = new byte[10];
        int offset = 0;
        Assert.Equal(10, p.Next(frame, ref offset, dst, out bool last));
        Assert.False(last);
        Assert.Equal(new byte[] { 0x90, 0x80, 0xFF, 0xFF }, dst[..4]); // X, S; I; M + 0x7FFF
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, dst[4..10]);
        Assert.Equal(4 + 5, p.Next(frame, ref offset, dst, out last)); // near-equal pieces: 6 + 5
        Assert.True(last);
        Assert.Equal(new byte[] { 0x80, 0x80, 0xFF, 0xFF, 7, 8, 9, 10, 11 }, dst[..9]); // no S, same picture
        Assert.Equal(0, p.PictureId);
        Assert.Equal(0, p.Next(frame, ref offset, dst, out _)); // done
    }

    [Fact]
    public void EmptyFramesAndSmallBuffersWriteNothing()
    {
        var p = new Vp8Packetizer(maxPayloadSize: 100);
        int offset = 0;
        Assert.Equal(0, p.Next([], ref offset, new byte[100], out bool last));
        Assert.False(last);
        Assert.Equal(0, p.Next(new byte[50], ref offset, new byte[20], out last));
        Assert.Equal(0, offset);
        Assert.Equal(0, p.Frames);
    }

    [Fact]
    public void PacketizingAllocatesNothing()
    {
        var frames = VpxDepacketizerTests.IvfFrames("vp8-320x240.ivf");
        var p = new Vp8Packetizer();
        var buffer = new byte[p.MaxPayloadSize];
        long bytes = 0;
        long fewest = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var frame in frames)
            {
                int offset = 0;
                bool last;
                do bytes += p.Next(frame, ref offset, buffer, out last);
                while (!last);
            }
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
        Assert.True(bytes > 0);
    }
}
