namespace Engine.Gcc.Tests;

public class IncomingRateMeterTests
{
    [Fact]
    public void ConstantRate_IsMeasured()
    {
        var m = new IncomingRateMeter();
        // 1000 bytes every 10 ms = 800 kbps.
        for (long t = 0; t <= 3_000_000; t += 10_000)
            m.Add(t, 1000);
        Assert.True(m.TryGetRate(3_000_000, out long bps));
        Assert.InRange(bps, 790_000, 810_000);
    }

    [Fact]
    public void NoRateBeforeHalfAWindow()
    {
        var m = new IncomingRateMeter();
        m.Add(0, 1000);
        m.Add(100_000, 1000);
        Assert.False(m.TryGetRate(100_000, out _));
        Assert.False(new IncomingRateMeter().TryGetRate(5_000_000, out _));
    }

    [Fact]
    public void OldDataLeavesTheWindow()
    {
        var m = new IncomingRateMeter();
        for (long t = 0; t <= 2_000_000; t += 10_000)
            m.Add(t, 1000);
        Assert.True(m.TryGetRate(2_000_000 + IncomingRateMeter.DefaultWindowMicros + IncomingRateMeter.BucketMicros, out long bps));
        Assert.Equal(0, bps);
        m.Add(10_000_000, 1000); // a long gap: the ring is cleared, not wrapped into stale sums
        Assert.True(m.TryGetRate(10_000_000, out bps));
        Assert.InRange(bps, 1, 1000 * 8 * 1_000_000L / IncomingRateMeter.DefaultWindowMicros);
    }

    [Fact]
    public void RateStep_IsFollowedWithinAWindow()
    {
        var m = new IncomingRateMeter();
        long t = 0;
        for (; t < 2_000_000; t += 10_000) m.Add(t, 2500); // 2 Mbps
        for (; t < 2_000_000 + IncomingRateMeter.DefaultWindowMicros + 20_000; t += 10_000) m.Add(t, 500); // 400 kbps
        Assert.True(m.TryGetRate(t, out long bps));
        Assert.InRange(bps, 390_000, 410_000);
    }
}
