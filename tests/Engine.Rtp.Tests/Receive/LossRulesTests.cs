using Engine.Rtp.Media;
using Engine.Rtp.Receive;
using Engine.Rtp.Video;

namespace Engine.Rtp.Tests.Receive;

/// <summary>
/// Issue 20's receive rules on real packetization with seeded loss: what a gap drops is decided by
/// the codec's own dependency information; the first packets are NACKed like any other; keyframe
/// requests follow loss at once and repeat on the RTT.
/// </summary>
public class LossRulesTests
{
    private const string Baseline = "baseline-320x240.h264"; // 30 frames, IDR every 10, all P-frames reference
    private const string NonRef = "nonref-320x240.h264"; // 30 frames, IDR every 10, a non-reference B between P-frames

    private static LossRun H264Run(List<LossPacket> packets, Func<LossPacket, bool>? lostForGood = null, Func<LossPacket, bool>? lostOnce = null) =>
        new LossRun(MediaCodec.H264).Run(packets, lostForGood, lostOnce);

    private static void AssertOnlyTheStartAsked(LossRun run)
    {
        Assert.Single(run.Requests); // the PLI a new stream sends at once
        Assert.Equal(0, run.Requests[0].At);
        Assert.False(run.Stream.NeedsKeyframe);
    }

    private static int[] Except(int count, params int[] missing) => Enumerable.Range(0, count).Except(missing).ToArray();

    // --- H.264 ---

    [Fact]
    public void H264_WithoutLoss_EveryFrameArrives()
    {
        foreach (var file in new[] { Baseline, NonRef })
        {
            var packets = LossTestStreams.H264(file);
            var run = H264Run(packets);
            Assert.Equal(Enumerable.Range(0, 30), run.DeliveredFrames(packets));
            Assert.Equal(3, run.Stream.Keyframes);
            AssertOnlyTheStartAsked(run);
        }
    }

    [Fact]
    public void H264_LostPaddingDropsNothing()
    {
        var rng = new Random(20);
        var packets = LossTestStreams.H264(Baseline, paddingAfterEachFrame: 3);
        var lost = packets.Where(p => p.Padding && rng.NextDouble() < 0.5).Select(p => p.Seq).ToHashSet();
        Assert.True(lost.Count > 20);
        var run = H264Run(packets, p => lost.Contains(p.Seq));
        Assert.Equal(Enumerable.Range(0, 30), run.DeliveredFrames(packets));
        Assert.Equal(0, run.Stream.FramesDropped);
        Assert.True(run.Stream.NacksSent >= lost.Count); // asked for: nobody can tell padding from media before
        AssertOnlyTheStartAsked(run);
    }

    [Fact]
    public void H264_LostNonReferenceFramesDropOnlyThemselves()
    {
        // Small packets so a B-frame spans several; one loses a middle packet, one is lost whole.
        var packets = LossTestStreams.H264(NonRef, maxPayloadSize: 80);
        var nonRef = packets.Where(p => p.NonReference).GroupBy(p => p.Frame).Where(g => g.Count() >= 2).Select(g => g.Key).ToList();
        Assert.True(nonRef.Count >= 2);
        int partly = nonRef[0], whole = nonRef[1];
        var partlyLost = packets.Where(p => p.Frame == partly).ElementAt(1).Seq;
        var run = H264Run(packets, p => p.Seq == partlyLost || p.Frame == whole);
        Assert.Equal(Except(30, partly, whole), run.DeliveredFrames(packets));
        Assert.Equal(1, run.Stream.FramesDroppedFor(VideoDropReason.IncompleteFrame));
        Assert.Equal(1, run.Stream.FramesDropped);
        AssertOnlyTheStartAsked(run);
    }

    [Fact]
    public void H264_ALostReferenceFrameDropsItsDependentsUntilTheNextIdr()
    {
        var packets = LossTestStreams.H264(NonRef, maxPayloadSize: 200);
        int reference = packets.First(p => p.Frame > 2 && p.Frame < 8 && !p.NonReference && !p.Key).Frame;
        var lostSeq = packets.First(p => p.Frame == reference).Seq;
        var run = H264Run(packets, p => p.Seq == lostSeq);
        var delivered = run.DeliveredFrames(packets);
        Assert.Equal(Enumerable.Range(0, reference), delivered.Where(f => f < 10));
        Assert.Equal(Enumerable.Range(10, 20), delivered.Where(f => f >= 10));
        Assert.True(run.Stream.FramesDroppedFor(VideoDropReason.IncompleteFrame) == 1);
        // A PLI once the loss was given up on, before the IDR came.
        long idrArrival = run.FrameStartMicros(10);
        Assert.Contains(run.Requests, r => r.At > 0 && r.At < idrArrival && r.Kind == KeyframeRequestKind.Pli);
        Assert.False(run.Stream.NeedsKeyframe);
    }

    [Fact]
    public void H264_SeededLossNeverDeliversAFrameWhoseReferenceIsMissing()
    {
        // Ground truth from the encoder's NAL headers, not from our parser: a reference picture
        // needs every reference picture since its IDR; a non-reference one the references before it.
        var packets = LossTestStreams.H264(NonRef, paddingAfterEachFrame: 1, maxPayloadSize: 300);
        for (int seed = 1; seed <= 8; seed++)
        {
            var rng = new Random(seed);
            var lost = packets.Where(_ => rng.NextDouble() < 0.05).Select(p => p.Seq).ToHashSet();
            var run = H264Run(packets, p => lost.Contains(p.Seq));
            var delivered = run.DeliveredFrames(packets).ToHashSet();
            var intact = packets.Where(p => !p.Padding).GroupBy(p => p.Frame).Where(g => g.All(p => !lost.Contains(p.Seq))).Select(g => g.Key).ToHashSet();
            var info = packets.Where(p => !p.Padding).GroupBy(p => p.Frame).ToDictionary(g => g.Key, g => (g.First().Key, g.First().NonReference));
            bool chainOk = false;
            for (int f = 0; f < 30; f++)
            {
                bool decodable = info[f].Key ? intact.Contains(f) : chainOk && intact.Contains(f);
                if (!info[f].NonReference)
                    chainOk = decodable;
                Assert.Equal(decodable, delivered.Contains(f)); // nothing broken delivered, nothing decodable dropped
            }
        }
    }

    [Fact]
    public void H264_TheFirstPacketLostOnceIsNackedAndTheFirstKeyframeIsWhole()
    {
        var packets = LossTestStreams.H264(Baseline);
        var first = packets[0];
        Assert.Equal(24, first.Bytes[12] & 0x1F); // the STAP-A with SPS and PPS
        var run = H264Run(packets, lostOnce: p => p.Seq == first.Seq);
        Assert.Contains(first.Seq, run.Nacked);
        Assert.Equal(Enumerable.Range(0, 30), run.DeliveredFrames(packets));
        Assert.True(run.Frames[0].Key);
        Assert.Equal(7, run.Frames[0].Data[4] & 0x1F); // AVCC: the SPS first
        Assert.Equal(0, run.Stream.FramesDropped);
    }

    [Fact]
    public void H264_TheFirstPacketsOfTheKeyframeLostOnceAreNackedBack()
    {
        var packets = LossTestStreams.H264(Baseline, maxPayloadSize: 300);
        var lost = packets.Take(6).Select(p => p.Seq).ToHashSet();
        Assert.Equal(0, packets[6].Bytes[13] & 0x80); // the first received is the middle of a fragmented NAL unit
        var run = H264Run(packets, lostOnce: p => lost.Contains(p.Seq));
        Assert.Subset(run.Nacked.ToHashSet(), lost);
        Assert.Equal(Enumerable.Range(0, 30), run.DeliveredFrames(packets));
        Assert.Equal(0, run.Stream.FramesDropped);
    }

    [Fact]
    public void H264_AFirstKeyframeWithoutSpsAndPpsIsNotDeliveredAndAnotherIsAskedFor()
    {
        var packets = LossTestStreams.H264(Baseline);
        var run = H264Run(packets, lostForGood: p => p.Seq == packets[0].Seq);
        Assert.Contains(packets[0].Seq, run.Nacked);
        var delivered = run.DeliveredFrames(packets);
        Assert.Equal(Enumerable.Range(10, 20), delivered); // the next IDR (with its SPS/PPS) starts the stream
        Assert.True(run.Frames[0].Key);
        Assert.Equal(7, run.Frames[0].Data[4] & 0x1F);
        Assert.Equal(1, run.Stream.FramesDroppedFor(VideoDropReason.MissingParameterSets));
        Assert.Equal(2, run.Stream.Keyframes); // the broken one was not counted as a keyframe
        long idrArrival = run.FrameStartMicros(10);
        Assert.Contains(run.Requests, r => r.At > 0 && r.At < idrArrival);
    }

    // --- VP8 ---

    [Fact]
    public void Vp8_LostPaddingDropsNothing()
    {
        var rng = new Random(8);
        var packets = LossTestStreams.Vp8(paddingAfterEachFrame: 2);
        var lost = packets.Where(p => p.Padding && rng.NextDouble() < 0.5).Select(p => p.Seq).ToHashSet();
        var run = new LossRun(MediaCodec.Vp8).Run(packets, p => lost.Contains(p.Seq));
        Assert.Equal(Enumerable.Range(0, 30), run.DeliveredFrames(packets));
        Assert.Equal(0, run.Stream.FramesDropped);
        AssertOnlyTheStartAsked(run);
    }

    [Fact]
    public void Vp8_LostNonReferenceFramesDropOnlyThemselves()
    {
        var packets = LossTestStreams.Vp8(layers: 2, upperLayerNonReference: true);
        // Frame 3 loses one packet, frame 7 every packet.
        var partly = packets.First(p => p.Frame == 3).Seq;
        var run = new LossRun(MediaCodec.Vp8).Run(packets, p => p.Seq == partly || p.Frame == 7);
        Assert.Equal(Except(30, 3, 7), run.DeliveredFrames(packets));
        AssertOnlyTheStartAsked(run);
    }

    [Fact]
    public void Vp8_ALostUpperLayerFrameDropsThatLayerUntilALayerSync()
    {
        // TL1 frames 1, 5, 9, ... carry Y=1 (they refer only to the base); 3, 7, ... do not.
        var packets = LossTestStreams.Vp8(layers: 2, upperLayerNonReference: false);
        var lost = packets.First(p => p.Frame == 5).Seq;
        // 30 ms RTT: the gap is given up (hold 180 ms from frame 6) before the layer sync (frame 9, 200 ms after frame 6) arrives.
        var run = new LossRun(MediaCodec.Vp8) { RttMicros = 30_000 }.Run(packets, p => p.Seq == lost);
        Assert.Equal(Except(30, 5, 7), run.DeliveredFrames(packets)); // the base goes on; 9 resyncs layer 1
        Assert.Contains(run.Requests, r => r.At > 0); // a keyframe would repair the layer sooner
        Assert.False(run.Stream.NeedsKeyframe);
    }

    [Fact]
    public void Vp8_ALostBaseFrameDropsEverythingUntilAKeyframe()
    {
        var packets = LossTestStreams.Vp8(layers: 2, upperLayerNonReference: true);
        // 30 ms RTT: the gap is given up (hold 180 ms) well before the next keyframe (frame 10) comes anyway.
        var run = new LossRun(MediaCodec.Vp8) { RttMicros = 30_000 }.Run(packets, p => p.Frame == 4); // lost whole: only TL0PICIDX tells
        Assert.Equal(Except(30, 4, 5, 6, 7, 8, 9), run.DeliveredFrames(packets));
        Assert.Contains(run.Requests, r => r.At > 0 && r.Kind == KeyframeRequestKind.Pli);
    }

    [Fact]
    public void Vp8_AFrameLostWholeWithoutLayersIsSeenInThePictureIds()
    {
        var packets = LossTestStreams.Vp8(paddingAfterEachFrame: 1);
        var run = new LossRun(MediaCodec.Vp8).Run(packets, p => p.Frame == 13 && !p.Padding);
        Assert.Equal(Except(30, 13, 14, 15, 16, 17, 18, 19), run.DeliveredFrames(packets));
        Assert.Equal(6, run.Stream.FramesDroppedFor(VideoDropReason.MissingReference) + run.Stream.FramesDroppedFor(VideoDropReason.WaitingForKeyframe));
    }

    // --- VP9 ---

    [Fact]
    public void Vp9_LostPaddingDropsNothing()
    {
        var rng = new Random(9);
        var packets = LossTestStreams.Vp9(flexible: false, paddingAfterEachFrame: 2);
        var lost = packets.Where(p => p.Padding && rng.NextDouble() < 0.5).Select(p => p.Seq).ToHashSet();
        var run = new LossRun(MediaCodec.Vp9).Run(packets, p => lost.Contains(p.Seq));
        Assert.Equal(Enumerable.Range(0, 30), run.DeliveredFrames(packets));
        Assert.Equal(0, run.Stream.FramesDropped);
        AssertOnlyTheStartAsked(run);
    }

    [Fact]
    public void Vp9_FlexibleMode_ALostPictureNobodyRefersToDropsOnlyItself()
    {
        var packets = LossTestStreams.Vp9(flexible: true, paddingAfterEachFrame: 1);
        var partly = packets.First(p => p.Frame == 13).Seq;
        var run = new LossRun(MediaCodec.Vp9).Run(packets, p => p.Frame == 3 && !p.Padding || p.Seq == partly);
        Assert.Equal(Except(30, 3, 13), run.DeliveredFrames(packets));
        AssertOnlyTheStartAsked(run);
    }

    [Fact]
    public void Vp9_FlexibleMode_ALostReferenceDropsThePicturesThatNameIt()
    {
        var packets = LossTestStreams.Vp9(flexible: true);
        var lost = packets.First(p => p.Frame == 4).Seq;
        var run = new LossRun(MediaCodec.Vp9) { RttMicros = 30_000 }.Run(packets, p => p.Seq == lost); // given up before the keyframe 10
        // 5 and 6 name 4, 7 and 8 name 6, 9 names 8; the keyframe 10 restarts.
        Assert.Equal(Except(30, 4, 5, 6, 7, 8, 9), run.DeliveredFrames(packets));
        Assert.Contains(run.Requests, r => r.At > 0 && r.Kind == KeyframeRequestKind.Pli);
        Assert.True(run.Stream.FramesDroppedFor(VideoDropReason.MissingReference) >= 1);
    }

    [Fact]
    public void Vp9_WithoutPictureIdsAGapWaitsForAKeyframeAsBefore()
    {
        var packets = LossTestStreams.Raw("vp9-320x240.rtp"); // ffmpeg writes no picture ID
        var lost = packets.First(p => p.Frame == 13).Seq;
        var run = new LossRun(MediaCodec.Vp9).Run(packets, p => p.Seq == lost);
        Assert.Equal(Except(30, 13, 14, 15, 16, 17, 18, 19), run.DeliveredFrames(packets));
    }
}
