using Engine.Rtp.Receive;

namespace Engine.Rtp.Tests.Receive;

public class NackGeneratorTests
{
    private static long[] Collect(NackGenerator g, long now)
    {
        Span<long> buf = stackalloc long[64];
        int n = g.CollectNacks(now, buf);
        return buf[..n].ToArray();
    }

    [Fact]
    public void AGapIsRequestedAtOnceThenEveryRttPlusAMargin()
    {
        var g = new NackGenerator();
        g.SetRttMicros(50_000);
        g.OnPacket(100, 0);
        g.OnPacket(103, 1_000);
        Assert.Equal(new long[] { 101, 102 }, Collect(g, 1_000));
        Assert.Empty(Collect(g, 51_000)); // one RTT later: the RTX may still be on its way, and a sender ignores it
        Assert.Equal(71_000, g.NextTimeoutMicros(51_000)); // RTT + max(20 ms, RTT / 4)
        Assert.Equal(new long[] { 101, 102 }, Collect(g, 71_000));
        g.OnPacket(101, 80_000);
        Assert.Empty(Collect(g, 140_000));
        Assert.Equal(new long[] { 102 }, Collect(g, 141_000));
        Assert.Equal(1, g.RecoveredAfterNack);
        Assert.Equal(1, g.MissingCount);
    }

    [Fact]
    public void ReorderedPacketsThatArriveBeforeTheNackAreNotRequested()
    {
        var g = new NackGenerator();
        g.OnPacket(10, 0);
        g.OnPacket(12, 10);
        g.OnPacket(11, 20);
        Assert.Empty(Collect(g, 30));
        Assert.Equal(0, g.MissingCount);
        Assert.Equal(long.MaxValue, g.NextTimeoutMicros(30));
    }

    [Fact]
    public void RetriesAndAgeAreBounded()
    {
        var g = new NackGenerator(maxRetries: 3, maxAgeMicros: 10_000_000);
        g.SetRttMicros(10_000);
        g.OnPacket(0, 0);
        g.OnPacket(2, 0);
        int sent = 0;
        for (long t = 0; t < 1_000_000; t += 5_000)
            sent += Collect(g, t).Length;
        Assert.Equal(3, sent);
        Assert.Equal(0, g.MissingCount);
        Assert.Equal(1, g.GivenUp);

        var aged = new NackGenerator(maxRetries: 100, maxAgeMicros: 100_000);
        aged.OnPacket(0, 0);
        aged.OnPacket(2, 0);
        Assert.Single(Collect(aged, 0));
        Assert.Empty(Collect(aged, 200_000));
        Assert.Equal(1, aged.GivenUp);
    }

    [Fact]
    public void AGapLargerThanTheWindowAsksForAKeyframe()
    {
        var g = new NackGenerator(capacity: 64);
        g.OnPacket(0, 0);
        g.OnPacket(10, 0);
        Assert.False(g.KeyframeNeeded);
        g.OnPacket(1000, 0);
        Assert.True(g.TakeKeyframeRequest());
        Assert.False(g.KeyframeNeeded);
        Assert.Equal(0, g.MissingCount);
        Assert.Empty(Collect(g, 0));
    }

    [Fact]
    public void SequenceWrapIsJustLargerNumbers()
    {
        var unwrap = new SeqNoUnwrapper();
        var g = new NackGenerator();
        foreach (ushort s in new ushort[] { 65533, 65534, 1, 2 })
            g.OnPacket(unwrap.Unwrap(s), 0);
        Assert.Equal(new long[] { 65535, 65536 }, Collect(g, 0));
    }

    [Fact]
    public void ADestinationTooSmallKeepsTheRestForLater()
    {
        var g = new NackGenerator();
        g.OnPacket(0, 0);
        g.OnPacket(11, 0);
        Span<long> two = stackalloc long[2];
        Assert.Equal(2, g.CollectNacks(0, two));
        Assert.Equal(1, two[0]);
        Assert.Equal(8, Collect(g, 0).Length);
    }

    [Fact]
    public void RandomArrivalsKeepTheCountsConsistentAndAllocateNothing()
    {
        var rng = new Random(9);
        var g = new NackGenerator(capacity: 256);
        Span<long> buf = stackalloc long[300];
        long seq = 0, now = 0;
        g.OnPacket(0, 0);
        int unordered = 0, outOfRange = 0;
        long before = 0;
        // The first 5,000 steps are a warm-up: a loaded machine can tier up (OSR) inside the window.
        for (int i = 0; i < 105_000; i++)
        {
            if (i == 5_000)
                before = GC.GetAllocatedBytesForCurrentThread();
            now += rng.Next(0, 3000);
            seq += rng.Next(10) == 0 ? rng.Next(2, 30) : 1;
            g.OnPacket(rng.Next(8) == 0 ? seq - rng.Next(0, 300) : seq, now);
            int n = g.CollectNacks(now, buf);
            for (int k = 1; k < n; k++)
                if (buf[k] <= buf[k - 1]) unordered++;
            if (g.MissingCount is < 0 or > 256) outOfRange++;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, unordered);
        Assert.Equal(0, outOfRange);
        Assert.True(g.NacksRequested > 1000);
    }
}
