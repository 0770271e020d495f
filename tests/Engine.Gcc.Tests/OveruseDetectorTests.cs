namespace Engine.Gcc.Tests;

public class OveruseDetectorTests
{
    [Fact]
    public void StartsAt12_5ms()
    {
        Assert.Equal(12.5, new OveruseDetector().ThresholdMs);
    }

    [Fact]
    public void ThresholdRisesWithKUpAndFallsWithKDown()
    {
        // One 10 ms step with |m| 5 ms above: +K_u * 5 * 10.
        var up = new OveruseDetector();
        up.Detect(0, 10, 0);
        up.Detect(12.5 + 5, 10, 10_000);
        // First call only starts the clock: adapt by K_d * (0 - 12.5) * 0 = 0.
        Assert.Equal(12.5 + OveruseDetector.KUp * 5 * 10, up.ThresholdMs, 9);

        var down = new OveruseDetector();
        down.Detect(0, 10, 0);
        down.Detect(12.5 - 5, 10, 10_000);
        Assert.Equal(12.5 - OveruseDetector.KDown * 5 * 10, down.ThresholdMs, 9);
    }

    [Fact]
    public void ThresholdIsClampedTo6And600()
    {
        var d = new OveruseDetector();
        for (int i = 0; i <= 1000; i++)
            d.Detect(0, 10, i * 100_000L);
        Assert.Equal(OveruseDetector.MinThresholdMs, d.ThresholdMs);

        // Walk it up with |m| always just under threshold + 15 (beyond that it is a spike and ignored).
        for (int i = 0; i <= 100_000 && d.ThresholdMs < 600; i++)
            d.Detect(d.ThresholdMs + 14, 10, 100_000_000 + i * 100_000L);
        Assert.Equal(OveruseDetector.MaxThresholdMs, d.ThresholdMs);
        d.Detect(2000, 10, 200_000_000_000);
        Assert.Equal(OveruseDetector.MaxThresholdMs, d.ThresholdMs);
    }

    [Fact]
    public void Spike_DoesNotMoveTheThreshold()
    {
        var d = new OveruseDetector();
        d.Detect(0, 10, 0);
        double before = d.ThresholdMs;
        d.Detect(before + OveruseDetector.MaxAdaptOffsetMs + 1, 10, 50_000);
        Assert.Equal(before, d.ThresholdMs);
    }

    [Fact]
    public void AdaptationStepIsCappedAt100ms()
    {
        var a = new OveruseDetector();
        a.Detect(0, 10, 0);
        a.Detect(12.5 + 5, 10, 5_000_000); // a 5 s pause adapts as 100 ms
        Assert.Equal(12.5 + OveruseDetector.KUp * 5 * 100, a.ThresholdMs, 9);
    }

    [Fact]
    public void Overuse_NeedsTwoSamplesOver10msAndANonFallingTrend()
    {
        var d = new OveruseDetector();
        Assert.Equal(BandwidthUsage.Normal, d.Detect(30, 15, 0)); // 7.5 ms over so far, one sample
        Assert.Equal(BandwidthUsage.Overusing, d.Detect(31, 15, 15_000)); // 22.5 ms, two samples, rising

        var falling = new OveruseDetector();
        falling.Detect(40, 15, 0);
        Assert.Equal(BandwidthUsage.Normal, falling.Detect(35, 15, 15_000)); // over, but falling: wait
        Assert.Equal(BandwidthUsage.Overusing, falling.Detect(36, 15, 30_000));
    }

    [Fact]
    public void NegativeTrendBeyondThreshold_IsUnderuse_AndInsideIsNormal()
    {
        var d = new OveruseDetector();
        Assert.Equal(BandwidthUsage.Underusing, d.Detect(-20, 10, 0));
        Assert.Equal(BandwidthUsage.Normal, d.Detect(5, 10, 10_000));
    }
}
