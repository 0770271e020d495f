namespace Engine.Gcc.Tests;

public class TrendlineEstimatorTests
{
    private static TrendlineEstimator Feed(int groups, long sendDelta, long arrivalDelta)
    {
        var t = new TrendlineEstimator();
        long arrival = 0;
        for (int i = 0; i < groups; i++)
        {
            arrival += arrivalDelta;
            t.Update(new InterArrivalDelta(sendDelta, arrivalDelta, arrival, 0));
        }
        return t;
    }

    [Fact]
    public void ConstantDelay_HasZeroSlope()
    {
        var t = Feed(100, 10_000, 10_000);
        Assert.Equal(0, t.Slope, 9);
        Assert.Equal(0, t.ModifiedTrend, 9);
    }

    [Fact]
    public void GrowingQueue_SlopeIsDelayGrowthPerArrivalTime()
    {
        // Each group arrives 1 ms later than it was sent relative to the last: +1 ms of delay per 11 ms.
        var t = Feed(200, 10_000, 11_000);
        Assert.Equal(1.0 / 11, t.Slope, 3);
        Assert.Equal(t.Slope * TrendlineEstimator.DeltaCountCap * TrendlineEstimator.ThresholdGain, t.ModifiedTrend, 9);
    }

    [Fact]
    public void DrainingQueue_HasNegativeSlope()
    {
        var t = Feed(200, 10_000, 9_000);
        Assert.Equal(-1.0 / 9, t.Slope, 3);
    }

    [Fact]
    public void NoSlopeUntilTheWindowFills()
    {
        var t = Feed(TrendlineEstimator.WindowSize - 1, 10_000, 12_000);
        Assert.Equal(0, t.Slope);
        t.Update(new InterArrivalDelta(10_000, 12_000, 12_000 * TrendlineEstimator.WindowSize, 0));
        Assert.True(t.Slope > 0);
    }

    [Fact]
    public void FewDeltas_AreWeightedDown()
    {
        var early = Feed(TrendlineEstimator.WindowSize, 10_000, 11_000);
        // 20 deltas of the cap of 60: a third of the weight.
        Assert.Equal(early.Slope * TrendlineEstimator.WindowSize * TrendlineEstimator.ThresholdGain, early.ModifiedTrend, 9);
    }
}
