using Engine.Host.Config;
using Engine.Host.Sessions;

namespace Engine.Host.Tests.Sessions;

public sealed class BurstLossTests
{
    // The end-to-end loss test relies on this: a seed picks the same packets of a stream however the
    // other stream's packets interleave with them.
    [Fact]
    public void ASeedLosesTheSamePacketsOfAStreamWhateverTheOtherStreamDoes()
    {
        var alone = new BurstLoss(10065);
        var mixed = new BurstLoss(10065);
        var rng = new Random(5);
        var lostAlone = new List<int>();
        var lostMixed = new List<int>();
        for (int i = 0; i < 2000; i++)
        {
            if (alone.ShouldDrop(video: true))
                lostAlone.Add(i);
            while (rng.Next(3) > 0) // audio packets in between, a varying number
                mixed.ShouldDrop(video: false);
            if (mixed.ShouldDrop(video: true))
                lostMixed.Add(i);
        }
        Assert.NotEmpty(lostAlone);
        Assert.Equal(lostAlone, lostMixed);
        Assert.True(mixed.Dropped > alone.Dropped, "the audio lottery dropped nothing in 2000+ packets");
    }

    [Fact]
    public void RtpTestSeedIsReadAndOptional()
    {
        Assert.Null(EngineConfig.Parse("[RTP]\nRTP_TEST=1\n").LossSeed);
        Assert.Equal(-7, EngineConfig.Parse("[RTP]\nRTP_TEST=1\nRTP_TEST_SEED=-7\n").LossSeed);
        Assert.Equal(-7, SessionOptions.From(EngineConfig.Parse("[RTP]\nRTP_TEST_SEED=-7\n")).LossSeed);
    }
}
