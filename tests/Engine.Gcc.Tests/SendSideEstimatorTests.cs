using Engine.Rtp.Send;

namespace Engine.Gcc.Tests;

public class SendSideEstimatorTests
{
    private static readonly SendSideEstimatorOptions Options = new(50_000, 5_000_000, 1_000_000);

    /// <summary>
    /// 30 fps of 4 × 1000-byte packets (~960 kbps), reported every 50 ms with a 50 ms path; each frame is
    /// extraDelayPerFrame later than the last; every lossEvery-th packet is lost (0: none).
    /// </summary>
    private sealed class Driver(SendSideEstimator e)
    {
        private readonly SentPacketResult[] _report = new SentPacketResult[256];
        private int _count;
        private long _seq, _delay, _nextReport = 50_000;
        public long Now;

        public void Run(int frames, long extraDelayPerFrame = 0, int lossEvery = 0)
        {
            for (int f = 0; f < frames; f++)
            {
                _delay = Math.Max(0, _delay + extraDelayPerFrame);
                for (int p = 0; p < 4; p++)
                {
                    long send = Now + p * 100;
                    long seq = _seq++;
                    e.OnPacketSent(seq, send, 1000, -1, false);
                    bool lost = lossEvery > 0 && seq % lossEvery == 0;
                    _report[_count++] = new SentPacketResult(seq, send, 1000, !lost, lost ? -1 : send + 50_000 + _delay);
                }
                Now += 33_333;
                if (Now >= _nextReport)
                {
                    _nextReport += 50_000;
                    e.OnTransportFeedback(_report.AsSpan(0, _count), Now + 50_000);
                    _count = 0;
                }
            }
        }
    }

    [Fact]
    public void SteadyPath_IsNormal_AndGrowsUpToOneAndAHalfTheAckedRate()
    {
        var e = new SendSideEstimator(Options with { StartBps = 300_000 });
        new Driver(e).Run(300);
        Assert.Equal(BandwidthUsage.Normal, e.Usage);
        Assert.True(e.TargetBps > 300_000, $"target {e.TargetBps}");
        Assert.True(e.DelayBasedBps <= 1.5 * 960_000 + 10_000);
        Assert.True(e.TryGetAckedRate(out long acked) && Math.Abs(acked - 960_000) < 50_000, $"acked {acked}");
        Assert.Equal(0, e.LastLoss);
    }

    [Fact]
    public void GrowingDelay_IsOveruse_AndCutsToBelowTheAckedRate()
    {
        var e = new SendSideEstimator(Options);
        var d = new Driver(e);
        d.Run(90);
        d.Run(30, extraDelayPerFrame: 2_000); // a filling queue
        Assert.True(e.TargetBps <= 0.86 * 960_000, $"target {e.TargetBps}");
        Assert.True(e.TargetBps >= 0.5 * 960_000, $"target {e.TargetBps}");
    }

    [Fact]
    public void HighLoss_CutsByHalfTheLossRatio_MidLossHolds()
    {
        var e = new SendSideEstimator(Options);
        var d = new Driver(e);
        d.Run(60);
        long before = e.LossBasedBps;
        d.Run(40, lossEvery: 5); // 20% for a window: one cut of ~10% (the window's own 8%/s growth came first)
        long afterFirst = e.LossBasedBps;
        Assert.True(e.LastLoss is > 0.15 and < 0.25, $"loss {e.LastLoss}");
        Assert.True(afterFirst < 0.91 * 1.09 * before && afterFirst >= 0.85 * before, $"loss-based {afterFirst} from {before}");
        d.Run(90, lossEvery: 5); // more windows over 10%: no growth between them, a cut each
        Assert.True(e.LossBasedBps <= 0.91 * 0.91 * afterFirst, $"loss-based {e.LossBasedBps} after {afterFirst}");
        Assert.Equal(Math.Min(e.DelayBasedBps, e.LossBasedBps), e.TargetBps);

        var held = new SendSideEstimator(Options);
        var h = new Driver(held);
        h.Run(45, lossEvery: 20); // 5%: the first window ends the start's growth
        long settled = held.LossBasedBps;
        h.Run(300, lossEvery: 20); // then neither up nor down
        Assert.Equal(settled, held.LossBasedBps);
        Assert.True(held.DelayBasedBps > settled); // the delay-based side would have gone on
    }

    [Fact]
    public void Remb_CapsTheTarget()
    {
        var e = new SendSideEstimator(Options);
        var d = new Driver(e);
        d.Run(60);
        e.OnRemb(200_000);
        Assert.Equal(200_000, e.TargetBps);
        e.OnRemb(0); // ignored
        Assert.Equal(200_000, e.RembBps);
        e.OnRemb(10_000); // under the floor
        Assert.Equal(Options.MinBps, e.TargetBps);
    }

    [Fact]
    public void ProbeResult_RaisesTheEstimate_ToWhatThePathCarried()
    {
        var e = new SendSideEstimator(Options with { StartBps = 300_000 });
        Assert.True(e.TryTakeProbe(0, out var first));
        Assert.Equal(900_000, first.TargetBps); // 3x the start
        Assert.True(e.TryTakeProbe(0, out var second));
        Assert.Equal(1_800_000, second.TargetBps); // 6x
        Assert.False(e.TryTakeProbe(0, out _));

        // Cluster 'second' sent at 4 Mbps (1000 B every 2 ms); the path delivers at 2 Mbps (every 4 ms).
        var report = new SentPacketResult[12];
        for (int i = 0; i < 11; i++)
        {
            e.OnPacketSent(i, i * 2_000, 1000, i < 10 ? second.Id : -1, i < 10);
            report[i] = new SentPacketResult(i, i * 2_000, 1000, true, 50_000 + i * 4_000);
        }
        e.OnTransportFeedback(report.AsSpan(0, 11), 100_000);
        Assert.Equal(1, e.ProbesMeasured);
        Assert.InRange(e.LastProbeResultBps, 1_850_000, 1_950_000); // 0.95 × 2 Mbps: the link was saturated
        // The AIMD then takes its step from there (at most 1 kbps this soon).
        Assert.InRange(e.DelayBasedBps, e.LastProbeResultBps, e.LastProbeResultBps + 1_000);
        Assert.InRange(e.TargetBps, e.LastProbeResultBps, e.DelayBasedBps); // the loss-based one was lifted to the result
    }

    [Fact]
    public void BadResults_AreCountedAndIgnored()
    {
        var e = new SendSideEstimator(Options);
        e.OnTransportFeedback([new SentPacketResult(1, 0, 0, true, 10), new SentPacketResult(2, 0, -5, false, -1)], 0);
        e.OnPacketSent(3, 0, 0, -1, false);
        Assert.Equal(3, e.InvalidResults);
        Assert.Equal(Options.StartBps, e.TargetBps);
        e.OnTransportFeedback([], 0);
        Assert.Equal(1, e.FeedbackReports);
    }

    [Fact]
    public void SentAndFeedback_AllocateNothing()
    {
        var e = new SendSideEstimator(Options);
        var d = new Driver(e);
        d.Run(300); // warm up
        for (long t = 0; t < 10; t++) e.TryTakeProbe(t, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        d.Run(3000, extraDelayPerFrame: 0, lossEvery: 7);
        for (long t = 0; t < 1000; t++) e.TryTakeProbe(d.Now + t * 1000, out _);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
