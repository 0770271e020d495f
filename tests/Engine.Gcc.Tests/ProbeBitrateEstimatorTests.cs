using Engine.Rtp.Send;

namespace Engine.Gcc.Tests;

public class ProbeBitrateEstimatorTests
{
    private static (ProbeBitrateEstimator E, SentPacketResult[] R) Cluster(int packets, long sendSpacing, long arrivalSpacing, int lossEvery = 0)
    {
        var e = new ProbeBitrateEstimator();
        var r = new SentPacketResult[packets + 1];
        for (int i = 0; i < packets; i++)
        {
            e.OnPacketSent(1, 100 + i, 5);
            bool lost = lossEvery > 0 && i % lossEvery == lossEvery - 1;
            r[i] = new SentPacketResult(100 + i, i * sendSpacing, 1000, !lost, lost ? -1 : 40_000 + i * arrivalSpacing);
        }
        r[packets] = new SentPacketResult(100 + packets, packets * sendSpacing, 1000, true, 40_000 + packets * arrivalSpacing + 10_000); // after the cluster
        return (e, r);
    }

    [Fact]
    public void UnsaturatedPath_GivesTheSendRate()
    {
        var (e, r) = Cluster(10, 4_000, 4_000); // 2 Mbps both ways
        e.OnFeedback(r);
        Assert.True(e.TryTakeResult(out long bps));
        Assert.InRange(bps, 1_990_000, 2_010_000);
        Assert.False(e.TryTakeResult(out _)); // taken
    }

    [Fact]
    public void SaturatedPath_GivesJustUnderTheReceiveRate()
    {
        var (e, r) = Cluster(10, 2_000, 8_000); // sent at 4 Mbps, received at 1 Mbps
        e.OnFeedback(r);
        Assert.True(e.TryTakeResult(out long bps));
        Assert.InRange(bps, 940_000, 960_000);
    }

    [Fact]
    public void NotSettled_UntilFeedbackPassesTheCluster()
    {
        var (e, r) = Cluster(10, 4_000, 4_000);
        e.OnFeedback(r.AsSpan(0, 6));
        Assert.False(e.TryTakeResult(out _));
        e.OnFeedback(r.AsSpan(6));
        Assert.True(e.TryTakeResult(out _));
    }

    [Fact]
    public void ThinOrOddFeedback_Fails()
    {
        var (e, r) = Cluster(5, 4_000, 4_000, lossEvery: 2); // 3 of 5 arrive: under 80%
        e.OnFeedback(r);
        Assert.False(e.TryTakeResult(out _));
        Assert.Equal(1, e.ProbesFailed);

        var (e2, r2) = Cluster(10, 8_000, 1_000); // received 8x faster than sent: an artefact
        e2.OnFeedback(r2);
        Assert.False(e2.TryTakeResult(out _));
        Assert.Equal(1, e2.ProbesFailed);
    }
}
