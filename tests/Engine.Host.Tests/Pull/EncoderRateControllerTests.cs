using Engine.Host.Pull;

namespace Engine.Host.Tests.Pull;

/// <summary>Issue 16: the transcoder's target from its players' GCC targets, on a fake clock (microseconds).</summary>
public sealed class EncoderRateControllerTests
{
    private const long Configured = 1_500_000, Audio = 80_000, Ms = 1000;

    [Fact]
    public void NoPlayerFigureKeepsTheConfiguredRate()
    {
        var c = new EncoderRateController(Configured, 0);
        for (long t = 0; t <= 5000 * Ms; t += 33 * Ms)
            Assert.Equal(Configured, c.Update(t, -1, Audio));
        Assert.Equal(0, c.Decreases + c.Increases);
    }

    [Fact]
    public void TargetIsTheLowestPlayerLessAudioFlooredAndCapped()
    {
        var c = new EncoderRateController(Configured, 0);
        Assert.Equal(920_000, c.Wanted(1_000_000, Audio));
        Assert.Equal(EncoderRateController.FloorBps, c.Wanted(100_000, Audio));
        Assert.Equal(Configured, c.Wanted(9_000_000, Audio));
        Assert.Equal(Configured, c.Wanted(-1, Audio));
        // A configured rate under the floor is the floor's cap too.
        Assert.Equal(100_000, new EncoderRateController(100_000, 0).Wanted(50_000, 0));
    }

    [Fact]
    public void ABigDropIsAppliedAtOnce()
    {
        var c = new EncoderRateController(Configured, 0);
        Assert.Equal(900_000 - Audio, c.Update(10 * Ms, 900_000, Audio)); // under 70 % of 1.5 Mbit/s
        Assert.Equal(1, c.Decreases);
    }

    [Fact]
    public void ASmallDropWaitsItsHoldAndIsAppliedWithin500Ms()
    {
        var c = new EncoderRateController(Configured, 0);
        long wanted = 1_200_000 + Audio; // 80 % of the current rate: outside the band, above 70 %
        long t = 0, appliedAt = -1;
        for (; t <= 1000 * Ms; t += 33 * Ms)
            if (c.Update(t, wanted, Audio) != Configured && appliedAt < 0)
                appliedAt = t;
        Assert.InRange(appliedAt, EncoderRateController.DecreaseHoldMicros, 500 * Ms);
        Assert.Equal(1_200_000, c.TargetBps);
        Assert.Equal(1, c.Decreases);
    }

    [Fact]
    public void ADipShorterThanTheHoldIsIgnored()
    {
        var c = new EncoderRateController(Configured, 0);
        c.Update(0, 1_250_000 + Audio, Audio);
        c.Update(100 * Ms, 1_250_000 + Audio, Audio);
        Assert.Equal(Configured, c.Update(150 * Ms, Configured + Audio, Audio)); // back up: the hold restarts
        Assert.Equal(Configured, c.Update(250 * Ms, 1_250_000 + Audio, Audio));
        Assert.Equal(Configured, c.Update(400 * Ms, 1_250_000 + Audio, Audio));
        Assert.Equal(1_250_000, c.Update(460 * Ms, 1_250_000 + Audio, Audio));
    }

    [Fact]
    public void ChangesInsideTheDeadBandAreIgnored()
    {
        var c = new EncoderRateController(Configured, 0);
        c.Update(0, 1_000_000 + Audio, Audio);
        Assert.Equal(1_000_000, c.TargetBps);
        for (long t = 0; t <= 10_000 * Ms; t += 33 * Ms)
        {
            long jitter = t / (33 * Ms) % 2 == 0 ? 1_090_000 : 910_000; // +-9 %
            Assert.Equal(1_000_000, c.Update(t, jitter + Audio, Audio));
        }
        Assert.Equal(1, c.Decreases);
        Assert.Equal(0, c.Increases);
    }

    [Fact]
    public void IncreasesComeAtMostOncePerSecond()
    {
        var c = new EncoderRateController(Configured, 0);
        c.Update(0, 300_000, Audio); // a player's estimate starts low
        Assert.Equal(220_000, c.TargetBps);
        var changes = new List<(long T, long Bps)>();
        long last = c.TargetBps;
        // The estimate climbs 8 % a second (GCC's multiplicative increase), reported every 50 ms.
        double estimate = 300_000;
        for (long t = 50 * Ms; t <= 30_000 * Ms; t += 50 * Ms)
        {
            estimate *= Math.Pow(1.08, 0.05);
            long r = c.Update(t, (long)estimate, Audio);
            if (r != last)
                changes.Add((t, r));
            last = r;
        }
        Assert.NotEmpty(changes);
        Assert.All(changes, x => Assert.True(x.Bps > 0));
        for (int i = 1; i < changes.Count; i++)
        {
            Assert.True(changes[i].T - changes[i - 1].T >= EncoderRateController.IncreaseIntervalMicros, $"{changes[i - 1]} then {changes[i]}");
            Assert.True(changes[i].Bps > changes[i - 1].Bps);
        }
        Assert.True(changes[0].T >= EncoderRateController.IncreaseIntervalMicros);
        Assert.Equal(Configured, c.TargetBps); // 300 kbit/s * 1.08^30 = 3 Mbit/s: capped
    }

    [Fact]
    public void ReturnsToTheCapFromInsideTheBand()
    {
        var c = new EncoderRateController(Configured, 0);
        c.Update(0, 1_000_000, Audio);
        c.Update(2000 * Ms, 1_450_000 + Audio, Audio);
        Assert.Equal(1_450_000, c.TargetBps);
        Assert.Equal(1_450_000, c.Update(2500 * Ms, 5_000_000, Audio)); // within a second of the last change
        Assert.Equal(Configured, c.Update(3000 * Ms, 5_000_000, Audio));
    }

    [Fact]
    public void ADropRightAfterAnIncreaseIsNotHeldBack()
    {
        var c = new EncoderRateController(Configured, 0);
        c.Update(0, 600_000, Audio);
        c.Update(1000 * Ms, 1_000_000, Audio);
        Assert.Equal(920_000, c.TargetBps);
        Assert.Equal(400_000 - Audio, c.Update(1010 * Ms, 400_000, Audio)); // decreases never wait for the increase interval
    }
}
