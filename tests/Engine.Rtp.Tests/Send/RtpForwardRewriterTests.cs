using System.Buffers.Binary;
using Engine.Rtp.Send;
using Engine.Rtp.Tests.Video;
using Engine.Rtp.Video;

namespace Engine.Rtp.Tests.Send;

public class RtpForwardRewriterTests
{
    private const uint Out = 0xCAFE0001;

    private static byte[] Packet(uint ssrc, ushort seq, uint ts, bool marker, byte[] payload)
    {
        Span<byte> ext = stackalloc byte[8];
        var w = new RtpHeaderExtensionWriter(ext, false);
        w.TryAdd(4, [1, 2, 3]); // an element the forwarder must keep
        var p = new RtpPacket { PayloadType = 96, SequenceNumber = seq, Timestamp = ts, Ssrc = ssrc, Marker = marker, ExtensionProfile = w.Profile, ExtensionElements = w.Written, Payload = payload };
        var b = new byte[p.GetSerializedLength()];
        p.Write(b);
        return b;
    }

    /// <summary>The dump's packets, the source changing SSRC, sequence and timestamp base at frame <paramref name="switchFrame"/>.</summary>
    private static List<(byte[] Packet, long At)> Source(string dump, int switchFrame)
    {
        var list = new List<(byte[], long)>();
        var packets = H264TestData.ReadRtpDump(dump);
        var timestamps = packets.Select(p => p.Timestamp).Distinct().ToList();
        foreach (var p in packets)
        {
            int frame = timestamps.IndexOf(p.Timestamp);
            bool second = frame >= switchFrame;
            list.Add((Packet(second ? 0xB0Bu : 0xA11CEu, (ushort)(p.Seq + (second ? 5000 : 0)), p.Timestamp + (second ? 777_777u : 0), p.Marker, p.Payload),
                1_000_000 + frame * 1_000_000L / 15));
        }
        return list;
    }

    [Theory]
    [InlineData("vp8-320x240.rtp", "vp8-320x240.ivf", false)]
    [InlineData("vp9-320x240.rtp", "vp9-320x240.ivf", true)]
    public void RelayedVpxIsOneContinuousStreamFrameForFrame(string dump, string ivf, bool vp9)
    {
        var source = Source(dump, switchFrame: 10);
        var r = new RtpForwardRewriter(Out, 90_000, 65_000, 0xFFFF_F000); // both wrap on the way
        var output = new List<byte[]>();
        foreach (var (packet, at) in source)
        {
            var copy = new byte[packet.Length + 10];
            int n = r.Rewrite(packet, copy, at);
            Assert.Equal(packet.Length, n);
            output.Add(copy[..n]);
        }
        Assert.Equal(1, r.SourceSwitches);
        Assert.Equal(source.Count, r.Forwarded);
        VideoDepacketizer d = vp9 ? new Vp9Depacketizer() : new Vp8Depacketizer();
        var frames = new List<byte[]>();
        RtpPacketView previous = default;
        for (int i = 0; i < output.Count; i++)
        {
            Assert.True(RtpPacketView.TryRead(output[i], out var v));
            Assert.True(RtpPacketView.TryRead(source[i].Packet, out var original));
            Assert.Equal(Out, v.Ssrc);
            Assert.Equal((ushort)(65_000 + i), v.SequenceNumber);
            Assert.Equal(original.Payload.ToArray(), v.Payload.ToArray());
            Assert.Equal(original.Marker, v.Marker);
            Assert.True(v.TryGetExtension(4, out var e) && e.SequenceEqual(new byte[] { 1, 2, 3 }));
            if (i == 0)
                Assert.Equal(0xFFFF_F000u, v.Timestamp);
            else
            {
                // Timestamps advance as the source's did, and by the wall time across the switch.
                uint expected = original.Ssrc == 0xB0B && BinaryPrimitives.ReadUInt32BigEndian(source[i - 1].Packet.AsSpan(8)) != 0xB0B
                    ? (uint)((source[i].At - source[i - 1].At) * 90_000 / 1_000_000)
                    : original.Timestamp - BinaryPrimitives.ReadUInt32BigEndian(source[i - 1].Packet.AsSpan(4));
                Assert.Equal(expected, v.Timestamp - previous.Timestamp);
            }
            previous = v;
            d.Push(v.Payload, 1_000_000 + i, v.Timestamp, v.Marker);
            while (d.TryPollFrame(out var f))
                frames.Add(f.Data.ToArray());
        }
        var expectedFrames = VpxDepacketizerTests.IvfFrames(ivf);
        Assert.Equal(expectedFrames.Count, frames.Count);
        for (int i = 0; i < frames.Count; i++)
            Assert.True(expectedFrames[i].AsSpan().SequenceEqual(frames[i]), $"frame {i}");
    }

    [Fact]
    public void RelayedH264RebuildsEveryFrameInPlace()
    {
        var r = new RtpForwardRewriter(Out, 90_000, new Random(3));
        var d = new H264Depacketizer();
        int frames = 0;
        foreach (var (packet, at) in Source("baseline-320x240.rtp", switchFrame: 20))
        {
            Assert.True(r.Rewrite(packet.AsSpan(), at));
            Assert.True(RtpPacketView.TryRead(packet, out var v));
            d.Push(v.Payload, v.SequenceNumber + (1L << 20), v.Timestamp, v.Marker);
            while (d.TryPollFrame(out H264Frame _))
                frames++;
        }
        Assert.Equal(30, frames);
        Assert.Equal(0, d.DropCount(VideoDropReason.IncompleteFrame));
    }

    [Fact]
    public void OutputsStartAtRandomPoints()
    {
        var starts = new HashSet<(ushort, uint)>();
        for (int seed = 0; seed < 8; seed++)
        {
            var r = new RtpForwardRewriter(Out, 48_000, new Random(seed));
            var p = Packet(1, 100, 1000, false, [1]);
            r.Rewrite(p.AsSpan(), 0);
            starts.Add((BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(2)), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4))));
        }
        Assert.Equal(8, starts.Count);
    }

    [Fact]
    public void StragglersAndPacketsFromBeforeTheSwitchAreDropped()
    {
        var r = new RtpForwardRewriter(Out, 48_000, 10, 0);
        Assert.True(r.Rewrite(Packet(1, 500, 0, false, [1]).AsSpan(), 0));
        Assert.True(r.Rewrite(Packet(1, 501, 960, false, [1]).AsSpan(), 20_000));
        Assert.True(r.Rewrite(Packet(2, 9000, 5, false, [1]).AsSpan(), 40_000)); // new source
        Assert.False(r.Rewrite(Packet(1, 502, 1920, false, [1]).AsSpan(), 41_000)); // straggler of the old one
        Assert.False(r.Rewrite(Packet(2, 8999, 0, false, [1]).AsSpan(), 42_000)); // older than the new source's first
        Assert.Equal(2, r.DroppedBeforeSwitch);
        var late = Packet(1, 600, 50_000, false, [1]);
        Assert.True(r.Rewrite(late.AsSpan(), 700_000)); // long after: the old source is back
        Assert.Equal(2, r.SourceSwitches);
        Assert.Equal(13, BinaryPrimitives.ReadUInt16BigEndian(late.AsSpan(2)));
        Assert.False(r.Rewrite(new byte[11].AsSpan(), 0));
        Assert.False(r.Rewrite(new byte[20].AsSpan(), 0)); // version 0
        Assert.Equal(2, r.DroppedMalformed);
    }
}
