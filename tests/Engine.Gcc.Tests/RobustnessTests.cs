namespace Engine.Gcc.Tests;

/// <summary>Bad input is absorbed: nothing throws, the estimate stays within its bounds.</summary>
public class RobustnessTests
{
    [Fact]
    public void RandomInput_NeverThrows_AndStaysInBounds()
    {
        var options = new ReceiveSideEstimatorOptions(40_000, 2_000_000, 500_000);
        for (int seed = 0; seed < 20; seed++)
        {
            var rng = new Random(seed);
            var e = new ReceiveSideEstimator(options);
            long t = rng.Next(-1_000_000, 1_000_000);
            uint abs = (uint)rng.Next();
            long rembs = 0;
            for (int i = 0; i < 5_000; i++)
            {
                // Mostly sane steps, with jumps back and forth in both clocks, wraps, and junk sizes.
                t += rng.Next(10) switch { 0 => rng.Next(-5_000_000, 5_000_000), 1 => -rng.Next(100_000), _ => rng.Next(0, 20_000) };
                abs = rng.Next(8) == 0 ? (uint)rng.Next() : abs + (uint)rng.Next(0, 6_000);
                int size = rng.Next(20) == 0 ? rng.Next(-100, 1) : rng.Next(1, 1500);
                e.OnPacket(t, abs, size);
                Assert.InRange(e.Estimate, options.MinBps, options.MaxBps);
                if (e.TryTakeRemb(t, out long bps))
                {
                    Assert.InRange(bps, options.MinBps, options.MaxBps);
                    rembs++;
                }
            }
            Assert.True(rembs > 0);
            Assert.True(e.InvalidPackets > 0);
        }
    }

    [Fact]
    public void RateMeter_AcceptsTimesBeforeTheOrigin()
    {
        var m = new IncomingRateMeter();
        for (long t = -3_000_000; t <= -1_000_000; t += 10_000)
            m.Add(t, 1000);
        Assert.True(m.TryGetRate(-1_000_000, out long bps));
        Assert.InRange(bps, 790_000, 810_000);
    }
}
