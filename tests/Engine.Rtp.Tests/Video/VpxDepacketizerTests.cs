using System.Buffers.Binary;
using Engine.Rtp.Video;

namespace Engine.Rtp.Tests.Video;

public class VpxDepacketizerTests
{
    /// <summary>IVF: 32-byte file header, then per frame a 12-byte header (4-byte LE size, 8-byte pts) and the frame.</summary>
    /// <summary>The frames of an IVF test file (32-byte header, then 12-byte frame headers).</summary>
    internal static List<byte[]> IvfFrames(string file)
    {
        var b = File.ReadAllBytes(H264TestData.PathOf(file));
        var frames = new List<byte[]>();
        for (int o = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)); o + 12 <= b.Length;)
        {
            int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(o));
            frames.Add(b.AsSpan(o + 12, size).ToArray());
            o += 12 + size;
        }
        return frames;
    }

    private static List<(byte[] Data, bool Key, int W, int H)> Depacketize(string rtpFile, Func<ReadOnlySpan<byte>, long, uint, bool, (byte[], bool, int, int)?> push)
    {
        var result = new List<(byte[], bool, int, int)>();
        foreach (var p in H264TestData.ReadRtpDump(rtpFile))
            if (push(p.Payload, p.Seq, p.Timestamp, p.Marker) is { } f)
                result.Add(f);
        return result;
    }

    [Fact]
    public void Vp8FramesFromFfmpegMatchTheEncoderOutput()
    {
        var d = new Vp8Depacketizer();
        var frames = Depacketize("vp8-320x240.rtp", (p, s, t, m) =>
        {
            d.Push(p, s, t, m);
            return d.TryPollFrame(out var f) ? (f.Data.ToArray(), f.IsKeyframe, f.Width, f.Height) : null;
        });
        var expected = IvfFrames("vp8-320x240.ivf");
        Assert.Equal(expected.Count, frames.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(expected[i].AsSpan().SequenceEqual(frames[i].Data), $"frame {i} differs");
        Assert.Equal(3, frames.Count(f => f.Key));
        Assert.All(frames.Where(f => f.Key), f => Assert.Equal((320, 240), (f.W, f.H)));
        Assert.True(frames[0].Key);
    }

    [Fact]
    public void Vp9FramesFromFfmpegMatchTheEncoderOutput()
    {
        var d = new Vp9Depacketizer();
        var frames = Depacketize("vp9-320x240.rtp", (p, s, t, m) =>
        {
            d.Push(p, s, t, m);
            return d.TryPollFrame(out var f) ? (f.Data.ToArray(), f.IsKeyframe, f.Width, f.Height) : null;
        });
        var expected = IvfFrames("vp9-320x240.ivf");
        Assert.Equal(expected.Count, frames.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(expected[i].AsSpan().SequenceEqual(frames[i].Data), $"frame {i} differs");
        Assert.Equal(3, frames.Count(f => f.Key));
        Assert.All(frames.Where(f => f.Key), f => Assert.Equal((320, 240), (f.W, f.H)));
    }

    [Fact]
    public void Vp8LossWaitsForTheNextKeyframe()
    {
        var packets = H264TestData.ReadRtpDump("vp8-320x240.rtp");
        var ts = packets.Select(p => p.Timestamp).Distinct().ToList();
        int victim = packets.FindIndex(p => p.Timestamp == ts[3]);
        var d = new Vp8Depacketizer();
        var got = new List<uint>();
        foreach (var (p, i) in packets.Select((p, i) => (p, i)))
        {
            if (i == victim) continue;
            d.Push(p.Payload, p.Seq, p.Timestamp, p.Marker);
            while (d.TryPollFrame(out var f)) got.Add(f.RtpTimestamp);
        }
        Assert.Equal(ts.Take(3).Concat(ts.Skip(10)), got);
    }

    [Fact]
    public void Vp9ScalabilityStructureGivesTheSize()
    {
        // RFC 9628 §4.2: I=0 P=0 L=0 F=0 B=1 E=1 V=1; SS: N_S=0, Y=1, G=0; 640x480.
        var payload = new byte[] { 0x0E, 0x10, 0x02, 0x80, 0x01, 0xE0, 0x82, 0x49, 0x83, 0x42, 0x00 };
        var d = new Vp9Depacketizer(startOnKeyframe: false);
        d.Push(payload, 1, 1000, true);
        Assert.True(d.TryPollFrame(out var f));
        Assert.Equal((640, 480), (f.Width, f.Height));
    }

    [Fact]
    public void MalformedAndRandomPayloadsNeverThrow()
    {
        var rng = new Random(13);
        var vp8 = new Vp8Depacketizer(64 * 1024, startOnKeyframe: false);
        var vp9 = new Vp9Depacketizer(64 * 1024, startOnKeyframe: false);
        var buf = new byte[300];
        uint ts = 0;
        for (int i = 0; i < 50_000; i++)
        {
            rng.NextBytes(buf);
            if (rng.Next(5) == 0) ts += 3000;
            int len = rng.Next(0, 40);
            bool marker = rng.Next(3) == 0;
            vp8.Push(buf.AsSpan(0, len), i, ts, marker);
            vp9.Push(buf.AsSpan(0, len), i, ts, marker);
            while (vp8.TryPollFrame(out var f)) Assert.True(f.Data.Length > 0);
            while (vp9.TryPollFrame(out var f)) Assert.True(f.Data.Length > 0);
        }
        Assert.True(vp8.DropCount(VideoDropReason.Malformed) > 0);
        Assert.True(vp9.DropCount(VideoDropReason.Malformed) > 0);
    }

    [Fact]
    public void SteadyStateAllocatesNothing()
    {
        var packets = H264TestData.ReadRtpDump("vp8-320x240.rtp");
        var d = new Vp8Depacketizer();
        long seq = 0;
        uint pass = 0;
        void Feed()
        {
            pass++;
            foreach (var p in packets)
            {
                d.Push(p.Payload, seq++, p.Timestamp + pass * 1_000_000, p.Marker);
                while (d.TryPollFrame(out _)) { }
            }
        }
        Feed();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Feed();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
