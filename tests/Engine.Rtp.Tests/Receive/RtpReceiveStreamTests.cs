using System.Buffers.Binary;
using Engine.Rtp.Media;
using Engine.Rtp.Receive;
using Engine.Rtp.Tests.Video;

namespace Engine.Rtp.Tests.Receive;

public class RtpReceiveStreamTests
{
    private sealed class Collector : IEncodedFrameSink
    {
        public readonly List<(int Track, MediaCodec Codec, byte[] Data, uint Ts, long Ntp, bool Key, int W, int H)> Frames = new();
        public bool Ended;
        public bool Copy = true;
        public int Count;

        public void OnFrame(int trackIndex, in EncodedFrame f)
        {
            Count++;
            if (Copy)
                Frames.Add((trackIndex, f.Codec, f.Data.ToArray(), f.RtpTimestamp, f.SenderNtpMicros, f.IsKeyframe, f.Width, f.Height));
        }

        public void OnEnd() => Ended = true;
    }

    /// <summary>The ffmpeg RTP dump as full packets (header rebuilt with our writer is not needed: the dump holds them).</summary>
    private static List<byte[]> Packets(string file)
    {
        var bytes = File.ReadAllBytes(H264TestData.PathOf(file));
        var list = new List<byte[]>();
        for (int o = 0; o + 2 <= bytes.Length;)
        {
            int len = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(o));
            list.Add(bytes.AsSpan(o + 2, len).ToArray());
            o += 2 + len;
        }
        return list;
    }

    private static void Feed(RtpReceiveStream s, byte[] packet, long now)
    {
        Assert.True(RtpPacketView.TryRead(packet, out var view));
        s.OnRtp(view, now);
    }

    [Fact]
    public void RtxCopiesOfPacketsAlreadyReceived_DoNotCountAsReceived()
    {
        // Chromium's bandwidth probes are RTX resends of packets that arrived; each copy counted
        // as received drove the cumulative loss negative and hid real loss from the sender.
        var sink = new Collector();
        var s = new RtpReceiveStream(MediaCodec.H264, 90000, 1, sink, useNack: true);
        var packets = Packets("baseline-320x240.rtp");
        long now = 0;
        for (int i = 0; i < packets.Count; i++)
        {
            if (i % 10 == 5)
                continue; // lost for good
            Feed(s, packets[i], now += 5000);
            if (i >= 1 && (i - 1) % 10 != 5)
            {
                Assert.True(RtpPacketView.TryRead(packets[i - 1], out var copy));
                s.OnRtp(copy, now, retransmission: true); // a probe resending the previous packet
            }
        }
        int lost = Enumerable.Range(0, packets.Count).Count(i => i % 10 == 5);
        Assert.Equal(lost, s.Statistics.CumulativeLost);
        Assert.True(s.Statistics.Duplicates >= packets.Count - 2 * lost - 1);
    }

    [Fact]
    public void H264FramesComeOutWithSizeFromTheSps()
    {
        var sink = new Collector();
        var s = new RtpReceiveStream(MediaCodec.H264, 90000, 1, sink, useNack: true);
        long now = 0;
        foreach (var p in Packets("baseline-320x240.rtp"))
            Feed(s, p, now += 5000);
        Assert.Equal(30, sink.Frames.Count);
        Assert.All(sink.Frames, f => Assert.Equal((1, MediaCodec.H264, 320, 240), (f.Track, f.Codec, f.W, f.H)));
        Assert.Equal(3, s.Keyframes);
        Assert.Equal("42c00c", s.H264Profile);
        Assert.Equal(-1, sink.Frames[0].Ntp); // no sender report yet
        Assert.False(s.NeedsKeyframe);
    }

    [Fact]
    public void ReorderedPacketsStillMakeEveryFrame()
    {
        var sink = new Collector();
        var s = new RtpReceiveStream(MediaCodec.Vp8, 90000, 0, sink, useNack: true);
        var packets = Packets("vp8-320x240.rtp");
        for (int i = 1; i + 1 < packets.Count; i += 4)
            (packets[i], packets[i + 1]) = (packets[i + 1], packets[i]);
        long now = 0;
        foreach (var p in packets)
            Feed(s, p, now += 1000);
        Assert.Equal(30, sink.Frames.Count);
        Assert.Equal(0, s.NacksSent);
    }

    [Fact]
    public void LossAsksForTheMissingPacketsAndThenForAKeyframe()
    {
        var sink = new Collector();
        var s = new RtpReceiveStream(MediaCodec.H264, 90000, 0, sink, useNack: true);
        var packets = Packets("baseline-320x240.rtp");
        long now = 0;
        Span<ushort> nacks = stackalloc ushort[64];
        Assert.True(RtpPacketView.TryRead(packets[0], out var first));
        Feed(s, packets[0], now);
        Assert.True(s.TakePliDue(now, 3_000_000)); // a new stream asks for a keyframe at once
        Assert.False(s.TakePliDue(now + 1000, 3_000_000));
        for (int i = 1; i < packets.Count; i++)
        {
            now += 5000;
            if (i == 40) continue; // lost for good
            Feed(s, packets[i], now);
            if (i == 41)
            {
                Assert.Equal(1, s.CollectNacks(now, nacks));
                Assert.Equal((ushort)(first.SequenceNumber + 40), nacks[0]);
            }
            s.HandleTimeout(now);
        }
        s.HandleTimeout(now + 1_000_000); // the reorder buffer gives up on 40
        Assert.True(sink.Frames.Count < 30);
        Assert.Equal(1, s.PlisSent);
        Assert.True(s.NacksSent >= 1);
    }

    [Fact]
    public void SenderReportsGiveFramesTheSendersClock()
    {
        var sink = new Collector();
        var s = new RtpReceiveStream(MediaCodec.Opus, 48000, 0, sink, useNack: false);
        s.OnSenderReport(SenderClock.MicrosToNtp(4_000_000), 48_000, 0); // before media: nothing to check it against
        var rtp = new byte[] { 0x80, 111, 0, 1, 0, 1, 0x77, 0x00, 0, 0, 0, 7, 0xFC, 0xFF, 0xFE }; // ts 96000
        Feed(s, rtp, 10);
        s.OnSenderReport(SenderClock.MicrosToNtp(5_000_000), 96_000, 20);
        rtp[3] = 2;
        rtp[6] = 0x7A; // ts 96000 + 768: 16 ms later
        Feed(s, rtp, 16_010);
        Assert.Equal(2, sink.Frames.Count);
        Assert.Equal(-1, sink.Frames[0].Ntp);
        Assert.InRange(sink.Frames[1].Ntp, 5_015_999, 5_016_001);
        Assert.Equal(new byte[] { 0xFC, 0xFF, 0xFE }, sink.Frames[1].Data);
        Assert.Equal(1, s.SenderReportsRejected);
        Assert.False(s.NeedsKeyframe);
    }

    [Fact]
    public void ThePipelineAllocatesNothingPerPacket()
    {
        var sink = new Collector { Copy = false };
        var s = new RtpReceiveStream(MediaCodec.H264, 90000, 0, sink, useNack: true);
        var packets = Packets("baseline-320x240.rtp");
        var views = packets.Select(p => p.ToArray()).ToList();
        long now = 0;
        uint pass = 0;
        void Run()
        {
            pass++;
            foreach (var p in views)
            {
                // Rewrite seq/timestamp so each pass continues the stream.
                ushort seq = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(2)) + packets.Count);
                BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), seq);
                BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4)) + 180_000);
                RtpPacketView.TryRead(p, out var v);
                s.OnRtp(v, now += 1000);
                s.HandleTimeout(now);
            }
        }
        Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sink.Count >= 90);
    }
}
