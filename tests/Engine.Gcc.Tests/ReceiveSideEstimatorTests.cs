namespace Engine.Gcc.Tests;

public class ReceiveSideEstimatorTests
{
    private static readonly ReceiveSideEstimatorOptions Options = new(50_000, 5_000_000, 1_000_000);

    /// <summary>30 fps of 4 × 1000-byte packets (~960 kbps); each frame arrives extraDelayPerFrame later than the last.</summary>
    private static long Drive(ReceiveSideEstimator e, long startMicros, int frames, long extraDelayPerFrame, ref long delay)
    {
        long t = startMicros;
        for (int f = 0; f < frames; f++, t += 33_333)
        {
            delay += extraDelayPerFrame;
            if (delay < 0) delay = 0;
            for (int p = 0; p < 4; p++)
                e.OnPacket(t + 20_000 + delay + p * 100, AbsSendTime.FromMicros(t + p * 100), 1000);
        }
        return t;
    }

    [Fact]
    public void SteadyPath_IsNormal_AndGrows()
    {
        var e = new ReceiveSideEstimator(Options);
        long delay = 0;
        Drive(e, 0, 300, 0, ref delay);
        Assert.Equal(BandwidthUsage.Normal, e.Usage);
        Assert.True(e.Estimate > Options.InitialBps);
        Assert.True(e.Estimate <= 1.5 * 960_000 + 10_000);
    }

    [Fact]
    public void GrowingDelay_IsOveruse_AndCutsBelowIncoming()
    {
        var e = new ReceiveSideEstimator(Options);
        long delay = 0;
        long t = Drive(e, 0, 90, 0, ref delay);
        Drive(e, t, 30, 2_000, ref delay); // +2 ms per frame: a filling queue
        Assert.Equal(RateControlState.Hold, e.RateState); // decreased, now holding
        Assert.True(e.TryGetIncomingRate(t + 1_000_000, out long incoming));
        Assert.True(e.Estimate <= 0.86 * 1_000_000, $"estimate {e.Estimate}");
        Assert.True(e.Estimate >= 0.84 * incoming * 0.8);
    }

    [Fact]
    public void DrainingQueue_IsUnderuse()
    {
        var e = new ReceiveSideEstimator(Options);
        long delay = 200_000;
        long t = Drive(e, 0, 90, 0, ref delay);
        Drive(e, t, 20, -5_000, ref delay);
        Assert.Equal(BandwidthUsage.Underusing, e.Usage);
        Assert.Equal(RateControlState.Hold, e.RateState);
    }

    [Fact]
    public void Remb_FollowsTheSchedule_AndStaysInBounds()
    {
        var e = new ReceiveSideEstimator(Options with { MaxBps = 1_100_000 });
        Assert.False(e.TryTakeRemb(0, out _)); // nothing received yet
        long delay = 0;
        long sent = 0, last = -1, maxGap = 0, minGap = long.MaxValue;
        for (long t = 0; t < 20_000_000; t += 33_333)
        {
            Drive(e, t, 1, 0, ref delay);
            if (e.TryTakeRemb(t + 30_000, out long bps))
            {
                Assert.InRange(bps, 50_000, 1_100_000);
                if (last >= 0) { maxGap = Math.Max(maxGap, t - last); minGap = Math.Min(minGap, t - last); }
                last = t;
                sent++;
            }
        }
        Assert.True(maxGap <= 1_000_000 + 33_333);
        Assert.True(minGap >= 200_000 - 33_333); // nothing urgent on a steady path
        Assert.InRange(sent, 20, 100);
        Assert.Equal(1_100_000, e.Estimate); // grew into the cap
    }

    [Fact]
    public void InvalidSize_IsCountedAndIgnored()
    {
        var e = new ReceiveSideEstimator(Options);
        e.OnPacket(0, 0, 0);
        e.OnPacket(0, 0, -5);
        Assert.Equal(2, e.InvalidPackets);
        Assert.Equal(0, e.Packets);
    }

    [Fact]
    public void OnPacketAndTryTakeRemb_AllocateNothing()
    {
        var e = new ReceiveSideEstimator(Options);
        long delay = 0;
        long t = Drive(e, 0, 100, 0, ref delay);
        e.TryTakeRemb(t, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long remb = 0;
        for (int i = 0; i < 20; i++)
        {
            t = Drive(e, t, 30, i % 2 == 0 ? 3_000 : -3_000, ref delay); // overuse, underuse, decreases and increases
            if (e.TryTakeRemb(t, out long bps)) remb += bps;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.NotEqual(0, remb);
        Assert.True(e.Packets > 2000);
    }
}
