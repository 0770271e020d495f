using Engine.Rtp.Send;

namespace Engine.Rtp.Tests.Send;

public class BurstPacerTests
{
    [Fact]
    public void AFrameLeavesInOrderOverFiveTicks()
    {
        var p = new BurstPacer(capacity: 64);
        for (int i = 0; i < 20; i++)
            Assert.True(p.TryEnqueue(i, 1200, 0));
        var released = new List<(long Id, long At)>();
        for (long t = 0; t < 20_000 && p.QueuedPackets > 0; t += 250)
            while (p.TryRelease(t, out long id))
                released.Add((id, t));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), released.Select(r => r.Id));
        // 4 per 1 ms tick.
        Assert.Equal([0L, 1000, 2000, 3000, 4000], released.Select(r => r.At).Distinct());
        Assert.All(released.GroupBy(r => r.At), g => Assert.Equal(4, g.Count()));
        Assert.Equal(long.MaxValue, p.NextReleaseMicros);
    }

    [Fact]
    public void ASmallFrameLeavesAtOnceAndTheWakeUpIsTheNextTick()
    {
        var p = new BurstPacer();
        for (int i = 0; i < 3; i++) p.TryEnqueue(i, 100, 500);
        Assert.True(p.NextReleaseMicros <= 500);
        for (int i = 0; i < 3; i++) Assert.True(p.TryRelease(500, out _));
        Assert.False(p.TryRelease(500, out _));
        for (int i = 0; i < 30; i++) p.TryEnqueue(i, 100, 600);
        for (int i = 0; i < 6; i++) Assert.True(p.TryRelease(600, out _));
        Assert.False(p.TryRelease(600, out _)); // quota 30 / 5 per tick; the burst's tick began at 600
        Assert.Equal(1600, p.NextReleaseMicros);
        Assert.False(p.TryRelease(1599, out _));
        Assert.True(p.TryRelease(1600, out _));
    }

    [Fact]
    public void AFullQueueRefusesAndCounts()
    {
        var p = new BurstPacer(capacity: 2);
        Assert.True(p.TryEnqueue(1, 1, 0));
        Assert.True(p.TryEnqueue(2, 1, 0));
        Assert.False(p.TryEnqueue(3, 1, 0));
        Assert.Equal(1, p.Dropped);
    }
}
