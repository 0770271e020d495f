using System.Buffers.Binary;
using Engine.Rtp.Media;
using Engine.Rtp.Receive;

namespace Engine.Rtp.Tests.Receive;

/// <summary>
/// When a receive stream asks for keyframes (fake clock): a PLI at once when a frame is lost for
/// good, repeats no sooner than RTT + margin and no later than the max interval, FIR after
/// unanswered PLIs, and all of it stops when a keyframe arrives.
/// </summary>
public class KeyframeRequestPolicyTests
{
    private const long Max = 3_000_000;

    private static readonly List<LossPacket> Packets = LossTestStreams.H264("baseline-320x240.h264");

    /// <summary>A stream past its first keyframe (the start's PLI taken), then frame 2 loses a packet for good.</summary>
    private static (LossRun Run, long LostAt) StreamWithALostReference(long rttMicros)
    {
        var run = new LossRun(MediaCodec.H264);
        var s = run.Stream;
        s.SetRttMicros(rttMicros);
        long now = 0;
        foreach (var p in Packets.Where(p => p.Frame < 2))
        {
            run.Feed(p.Bytes, now);
            if (now == 0)
                Assert.Equal(KeyframeRequestKind.Pli, s.TakeKeyframeRequestDue(now, Max)); // a new stream asks at once
            now += 1000;
        }
        Assert.False(s.NeedsKeyframe);
        Assert.Equal(long.MaxValue, s.NextKeyframeRequestMicros(Max));
        var lost = Packets.First(p => p.Frame == 2).Seq;
        foreach (var p in Packets.Where(p => p.Frame is >= 2 and < 5 && p.Seq != lost))
        {
            run.Feed(p.Bytes, now);
            now += 1000;
        }
        Assert.False(s.NeedsKeyframe); // the gap is still waited for
        now += 1_000_000;
        s.HandleTimeout(now); // the reorder buffer gives up on it: frame 2 is lost for good
        Assert.True(s.NeedsKeyframe);
        return (run, now);
    }

    [Fact]
    public void APliGoesOutAtOnceThenEveryRttPlusMarginWithFirAfterThreeUnanswered()
    {
        var (run, t0) = StreamWithALostReference(rttMicros: 150_000);
        var s = run.Stream;
        long repeat = 150_000 + s.KeyframeRequestMarginMicros;
        Assert.Equal(0, s.NextKeyframeRequestMicros(Max)); // due now
        var kinds = new List<(KeyframeRequestKind Kind, byte Fir)>();
        long now = t0;
        for (int i = 0; i < 6; i++)
        {
            var k = s.TakeKeyframeRequestDue(now, Max);
            Assert.NotEqual(KeyframeRequestKind.None, k);
            kinds.Add((k, s.FirSequenceNumber));
            Assert.Equal(now + repeat, s.NextKeyframeRequestMicros(Max));
            Assert.Equal(KeyframeRequestKind.None, s.TakeKeyframeRequestDue(now + repeat - 1, Max)); // not sooner
            now += repeat;
        }
        Assert.Equal(
            [(KeyframeRequestKind.Pli, 0), (KeyframeRequestKind.Pli, 0), (KeyframeRequestKind.Pli, 0),
             (KeyframeRequestKind.Fir, 1), (KeyframeRequestKind.Pli, 1), (KeyframeRequestKind.Fir, 2)], kinds);
        Assert.Equal(2, s.FirsSent);
        Assert.Equal(1 + 4, s.PlisSent);
        Assert.Equal(6, s.KeyframeRequestsUnanswered);

        // The keyframe arrives: requests stop, and the next loss asks at once.
        foreach (var p in Packets.Where(p => p.Frame == 10))
            run.Feed(p.Bytes, now);
        now += 1_000_000;
        s.HandleTimeout(now); // frames 5-9 were never sent: the gap before the IDR is given up
        Assert.Equal(2, s.Keyframes);
        Assert.False(s.NeedsKeyframe);
        Assert.Equal(0, s.KeyframeRequestsUnanswered);
        Assert.Equal(KeyframeRequestKind.None, s.TakeKeyframeRequestDue(now + 10 * repeat, Max));
        Assert.Equal(long.MaxValue, s.NextKeyframeRequestMicros(Max));
        s.RequestKeyframe(); // a consumer downstream lost its place
        Assert.Equal(KeyframeRequestKind.Pli, s.TakeKeyframeRequestDue(now + 1, Max));
    }

    [Fact]
    public void AKeyframeThatIsArrivingIsNotAskedForAgain()
    {
        var (run, t0) = StreamWithALostReference(rttMicros: 100_000);
        var s = run.Stream;
        Assert.Equal(KeyframeRequestKind.Pli, s.TakeKeyframeRequestDue(t0, Max));
        long now = t0 + 1000;
        foreach (var p in Packets.Where(p => p.Frame is >= 5 and < 10))
            run.Feed(p.Bytes, now); // dropped: they refer to the lost frame
        Assert.Equal(KeyframeRequestKind.None, s.TakeKeyframeRequestDue(now, Max));
        now = t0 + 50_000;
        var key = Packets.Where(p => p.Frame == 10).ToList();
        Assert.True(key.Count > 5);
        foreach (var p in key.Take(key.Count - 1))
        {
            run.Feed(p.Bytes, now); // a slow link: each packet 150 ms after the last, longer than RTT + margin
            now += 150_000;
            Assert.Equal(KeyframeRequestKind.None, s.TakeKeyframeRequestDue(now - 1, Max));
        }
        run.Feed(key[^1].Bytes, now);
        Assert.False(s.NeedsKeyframe);
        Assert.Equal(2, s.PlisSent); // the start's and the loss's
        Assert.Equal(KeyframeRequestKind.None, s.TakeKeyframeRequestDue(now + Max, Max));
    }

    [Fact]
    public void TheMaxIntervalBoundsTheWaitWhenTheRttIsLong()
    {
        var (run, t0) = StreamWithALostReference(rttMicros: 2_000_000);
        var s = run.Stream;
        const long max = 1_000_000;
        Assert.Equal(KeyframeRequestKind.Pli, s.TakeKeyframeRequestDue(t0, max));
        Assert.Equal(t0 + max, s.NextKeyframeRequestMicros(max)); // RTT + margin would be 2.1 s
        Assert.Equal(KeyframeRequestKind.None, s.TakeKeyframeRequestDue(t0 + max - 1, max));
        Assert.Equal(KeyframeRequestKind.Pli, s.TakeKeyframeRequestDue(t0 + max, max));
    }

    [Fact]
    public void TheOldPliCallNeverAsksForFirAndFirCanBeTurnedOff()
    {
        var (run, t0) = StreamWithALostReference(rttMicros: 50_000);
        var s = run.Stream;
        long now = t0;
        for (int i = 0; i < 8; i++, now += 150_000)
            Assert.True(s.TakePliDue(now, Max));
        Assert.Equal(0, s.FirsSent);

        var (run2, t2) = StreamWithALostReference(rttMicros: 50_000);
        run2.Stream.PlisBeforeFir = 0; // the sender did not offer ccm fir
        for (int i = 0; i < 8; i++, t2 += 150_000)
            Assert.Equal(KeyframeRequestKind.Pli, run2.Stream.TakeKeyframeRequestDue(t2, Max));
    }

    [Fact]
    public void LossOfANonReferenceFrameAsksForNothing()
    {
        var packets = LossTestStreams.H264("nonref-320x240.h264");
        var nonRef = packets.First(p => p.NonReference && p.Frame > 2);
        var run = new LossRun(MediaCodec.H264).Run(packets, p => p.Seq == nonRef.Seq);
        Assert.Single(run.Requests); // the start's only
        Assert.Equal(29, run.Frames.Count);
    }

    [Fact]
    public void TheReceivePathUnderLossAndPaddingAllocatesNothingPerPacket()
    {
        var cases = new (MediaCodec Codec, List<LossPacket> Packets)[]
        {
            (MediaCodec.H264, LossTestStreams.H264("nonref-320x240.h264", paddingAfterEachFrame: 1, maxPayloadSize: 300)),
            (MediaCodec.Vp8, LossTestStreams.Vp8(layers: 2, upperLayerNonReference: false, paddingAfterEachFrame: 1)),
            (MediaCodec.Vp9, LossTestStreams.Vp9(flexible: true, paddingAfterEachFrame: 1)),
        };
        foreach (var (codec, packets) in cases)
        {
            var sink = new CountingSink();
            var s = new RtpReceiveStream(codec, 90000, 0, sink, useNack: true);
            s.SetRttMicros(20_000);
            var bytes = packets.Select(p => p.Bytes.ToArray()).ToArray();
            // Lost for good: padding, a non-reference or upper-layer frame's packet, a reference frame's packet.
            var lost = packets.Select((p, i) => p.Padding && i % 3 == 0 || i == packets.FindIndex(q => q.Frame == 3) || i == packets.FindIndex(q => q.Frame == 14) + 1).ToArray();
            long now = 0;
            var nacks = new ushort[64];
            void Pass()
            {
                for (int i = 0; i < bytes.Length; i++)
                {
                    var p = bytes[i];
                    BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(2)) + bytes.Length));
                    BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4)) + 1_000_000);
                    now += 5000;
                    if (!lost[i] && RtpPacketView.TryRead(p, out var v))
                        s.OnRtp(v, now);
                    s.HandleTimeout(now);
                    s.CollectNacks(now, nacks);
                    s.TakeKeyframeRequestDue(now, Max);
                }
            }
            Pass();
            // The fewest bytes of three windows: a per-packet allocation shows in every window, the
            // runtime's own one-off work (tiering on a loaded machine) in one at most.
            long fewest = long.MaxValue;
            for (int window = 0; window < 3 && fewest != 0; window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                Pass();
                Pass();
                fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Assert.Equal(0, fewest);
            Assert.True(sink.Count > 40, $"{codec}: {sink.Count} frames");
            Assert.True(s.FramesDropped > 0 && s.NacksSent > 0, codec.ToString());
        }
    }

    private sealed class CountingSink : IEncodedFrameSink
    {
        public int Count;

        public void OnFrame(int trackIndex, in EncodedFrame frame) => Count++;

        public void OnEnd() { }
    }
}
