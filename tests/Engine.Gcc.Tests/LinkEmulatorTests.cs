namespace Engine.Gcc.Tests;

public class LinkEmulatorTests
{
    [Fact]
    public void Serialises_AtCapacity_ThenAddsDelay()
    {
        var link = new LinkEmulator(1, 1_000_000) { OneWayDelayMicros = 50_000 };
        var a = link.Send(0, 1250); // 10 000 bits at 1 Mbps = 10 ms
        var b = link.Send(0, 1250); // queued behind a
        Assert.Equal(60_000, a.ArrivalMicros);
        Assert.Equal(70_000, b.ArrivalMicros);
        Assert.Equal(150_000, link.Send(90_000, 1250).ArrivalMicros); // link idle again
    }

    [Fact]
    public void CapacitySchedule_AppliesFromItsTime()
    {
        var link = new LinkEmulator(1, [(0L, 1_000_000L), (1_000_000L, 500_000L)]);
        Assert.Equal(1_000_000, link.CapacityAt(999_999));
        Assert.Equal(500_000, link.CapacityAt(1_000_000));
        Assert.Equal(1_000_000 + 20_000, link.Send(1_000_000, 1250).ArrivalMicros);
    }

    [Fact]
    public void QueueLimitInTime_TailDrops()
    {
        var link = new LinkEmulator(1, 1_000_000) { QueueLimitMicros = 25_000 };
        int delivered = 0;
        for (int i = 0; i < 10; i++)
            if (link.Send(0, 1250).Delivered) delivered++;
        Assert.Equal(3, delivered); // waits of 0, 10 and 20 ms fit; 30 ms does not
        Assert.Equal(7, link.QueueDrops);
    }

    [Fact]
    public void QueueLimitInBytes_TailDrops_AndDrains()
    {
        var link = new LinkEmulator(1, 1_000_000) { QueueLimitBytes = 3000 };
        Assert.True(link.Send(0, 1250).Delivered);
        Assert.True(link.Send(0, 1250).Delivered);
        Assert.False(link.Send(0, 1250).Delivered);
        Assert.True(link.Send(10_000, 1250).Delivered); // the first has left
    }

    [Fact]
    public void RandomAndBurstyLoss_HitTheirRates_Deterministically()
    {
        static (long Drops, bool[] Pattern) Run(double random, double goodToBad)
        {
            var link = new LinkEmulator(42, 1_000_000_000) { RandomLoss = random, GoodToBad = goodToBad, BadToGood = 0.25, BadLoss = 1 };
            var pattern = new bool[100_000];
            for (int i = 0; i < pattern.Length; i++)
                pattern[i] = !link.Send(i * 100L, 100).Delivered;
            return (link.RandomDrops, pattern);
        }
        var uniform = Run(0.05, 0);
        Assert.InRange(uniform.Drops, 4_500, 5_500);
        // Gilbert-Elliott: stationary bad share = 0.0125 / (0.0125 + 0.25) ≈ 4.8%, in bursts of mean length 4.
        var bursty = Run(0, 0.0125);
        Assert.InRange(bursty.Drops, 4_000, 5_600);
        int runs = 0;
        for (int i = 1; i < bursty.Pattern.Length; i++)
            if (bursty.Pattern[i] && !bursty.Pattern[i - 1]) runs++;
        Assert.InRange((double)bursty.Drops / runs, 3, 5);
        Assert.Equal(bursty.Pattern, Run(0, 0.0125).Pattern); // same seed, same losses
    }

    [Fact]
    public void Jitter_StaysInRange_AndKeepsOrderWhenAsked()
    {
        var link = new LinkEmulator(3, 1_000_000_000) { OneWayDelayMicros = 10_000, JitterMicros = 5_000 };
        long last = 0;
        for (int i = 0; i < 1000; i++)
        {
            var o = link.Send(i * 1_000L, 100);
            Assert.True(o.ArrivalMicros >= last);
            Assert.InRange(o.ArrivalMicros - i * 1_000L, 10_000, 10_000 + 5_000 + 1_000);
            last = o.ArrivalMicros;
        }
    }
}
