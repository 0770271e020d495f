namespace Engine.Gcc.Tests;

public class AimdRateControlTests
{
    private static AimdRateControl Make(long initial = 1_000_000) => new(10_000, 10_000_000, initial);

    [Fact]
    public void StartsInHold_NormalMovesToIncrease()
    {
        var r = Make();
        Assert.Equal(RateControlState.Hold, r.State);
        r.Update(BandwidthUsage.Normal, 1_000_000, 0);
        Assert.Equal(RateControlState.Increase, r.State);
    }

    [Fact]
    public void MultiplicativeIncrease_Is8PercentPerSecond()
    {
        var r = Make();
        r.Update(BandwidthUsage.Normal, 1_000_000, 0);
        for (int i = 1; i <= 10; i++)
            r.Update(BandwidthUsage.Normal, 1_000_000, i * 100_000L);
        Assert.InRange(r.EstimateBps, 1_079_000, 1_082_000); // 1.08 × (1 Mbps + the 1 kbps minimum first step)
        Assert.False(r.NearConvergence);
    }

    [Fact]
    public void Overuse_CutsTo85PercentOfIncoming_ThenHolds()
    {
        var r = Make(2_000_000);
        r.Update(BandwidthUsage.Normal, 1_500_000, 0);
        r.Update(BandwidthUsage.Overusing, 1_000_000, 100_000);
        Assert.Equal(850_000, r.EstimateBps);
        Assert.Equal(RateControlState.Hold, r.State);
        Assert.True(r.NearConvergence);
        r.Update(BandwidthUsage.Normal, 850_000, 200_000); // Hold → Increase, but no time has passed in Increase yet
        Assert.Equal(RateControlState.Increase, r.State);
    }

    [Fact]
    public void Overuse_NeverRaisesTheEstimate()
    {
        var r = Make(500_000);
        r.Update(BandwidthUsage.Overusing, 1_000_000, 0); // 0.85 × 1 Mbps is above 500 kbps
        Assert.Equal(500_000, r.EstimateBps);
    }

    [Fact]
    public void Underuse_Holds()
    {
        var r = Make();
        r.Update(BandwidthUsage.Normal, 1_000_000, 0);
        r.Update(BandwidthUsage.Underusing, 1_000_000, 500_000);
        Assert.Equal(RateControlState.Hold, r.State);
        long held = r.EstimateBps;
        r.Update(BandwidthUsage.Underusing, 1_000_000, 1_000_000);
        Assert.Equal(held, r.EstimateBps);
    }

    [Fact]
    public void NearConvergence_IncreaseIsAdditive_AndSlowerThanMultiplicative()
    {
        var r = Make(2_000_000);
        r.Update(BandwidthUsage.Overusing, 1_000_000, 0); // 850 kbps, capacity ~1 Mbps
        r.Update(BandwidthUsage.Normal, 900_000, 100_000);
        long start = r.EstimateBps;
        for (int i = 2; i <= 11; i++)
            r.Update(BandwidthUsage.Normal, 900_000, i * 100_000L);
        long gained = r.EstimateBps - start;
        // ~850 kbps / 30 fps = 28.3 kbit frames of 3 packets: 9.4 kbit per response time (300 ms) ≈ 31 kbps/s.
        Assert.InRange(gained, 25_000, 37_000);
        Assert.True(gained < start * 0.08 * 0.8);
    }

    [Fact]
    public void IncomingFarAboveCapacity_ReturnsToMultiplicative()
    {
        var r = Make(2_000_000);
        r.Update(BandwidthUsage.Overusing, 1_000_000, 0);
        Assert.True(r.NearConvergence);
        r.Update(BandwidthUsage.Normal, 2_000_000, 100_000); // Hold → Increase
        r.Update(BandwidthUsage.Normal, 2_000_000, 200_000);
        Assert.False(r.NearConvergence);
    }

    [Fact]
    public void Increase_IsCappedAt1_5xIncoming()
    {
        var r = Make(100_000);
        r.Update(BandwidthUsage.Normal, 100_000, 0);
        for (int i = 1; i <= 100; i++)
            r.Update(BandwidthUsage.Normal, 100_000, i * 1_000_000L);
        Assert.Equal(160_000, r.EstimateBps); // 1.5 × 100 kbps + 10 kbps
    }

    [Fact]
    public void EstimateStaysWithinMinAndMax()
    {
        var r = new AimdRateControl(200_000, 1_000_000, 5_000_000);
        Assert.Equal(1_000_000, r.EstimateBps);
        r.Update(BandwidthUsage.Overusing, 50_000, 0);
        Assert.Equal(200_000, r.EstimateBps);
        for (int i = 1; i < 100; i++)
            r.Update(BandwidthUsage.Normal, 10_000_000, i * 1_000_000L);
        Assert.Equal(1_000_000, r.EstimateBps);
    }

    [Fact]
    public void ReduceFurther_AfterAnRttOrWhenIncomingCollapsed()
    {
        var r = Make(2_000_000);
        r.RttMicros = 100_000;
        Assert.True(r.TimeToReduceFurther(0, 1_000_000));
        r.Update(BandwidthUsage.Overusing, 1_000_000, 0);
        Assert.False(r.TimeToReduceFurther(50_000, 800_000));
        Assert.True(r.TimeToReduceFurther(50_000, 400_000)); // below half of 850 kbps
        Assert.True(r.TimeToReduceFurther(100_000, 800_000));
    }
}
