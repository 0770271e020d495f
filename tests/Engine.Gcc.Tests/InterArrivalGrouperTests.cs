namespace Engine.Gcc.Tests;

public class InterArrivalGrouperTests
{
    [Fact]
    public void PacketsWithin5ms_FormOneGroup_DeltaComparesLastPackets()
    {
        var g = new InterArrivalGrouper();
        // Group A: sent at 0, 2, 4 ms; group B: sent at 20, 22 ms; group C starts at 40 ms and closes B.
        Assert.False(g.OnPacket(0, 100_000, 100, out _));
        Assert.False(g.OnPacket(2_000, 102_000, 100, out _));
        Assert.False(g.OnPacket(4_000, 104_000, 100, out _));
        Assert.False(g.OnPacket(20_000, 121_000, 100, out _)); // closes A, but A has no predecessor
        Assert.False(g.OnPacket(22_000, 125_000, 100, out _));
        Assert.True(g.OnPacket(40_000, 140_000, 100, out var d));
        Assert.Equal(22_000 - 4_000, d.SendDeltaMicros);
        Assert.Equal(125_000 - 104_000, d.ArrivalDeltaMicros);
        Assert.Equal(125_000, d.ArrivalMicros);
        Assert.Equal(200 - 300, d.SizeDeltaBytes);
    }

    [Fact]
    public void PacketOlderThanCurrentGroup_IsIgnoredAndCounted()
    {
        var g = new InterArrivalGrouper();
        g.OnPacket(10_000, 100_000, 100, out _);
        g.OnPacket(30_000, 120_000, 100, out _);
        Assert.False(g.OnPacket(5_000, 121_000, 100, out _));
        Assert.Equal(1, g.ReorderedPackets);
    }

    [Fact]
    public void QueuedBurst_JoinsTheGroup()
    {
        var g = new InterArrivalGrouper();
        g.OnPacket(0, 100_000, 100, out _);
        // Sent 10 ms later but arrives 1 ms after the previous one: it was queued behind it.
        g.OnPacket(10_000, 101_000, 100, out _);
        g.OnPacket(30_000, 130_000, 100, out _); // new group; the burst made one group of the first two
        Assert.True(g.OnPacket(60_000, 160_000, 100, out var d));
        Assert.Equal(30_000 - 10_000, d.SendDeltaMicros);
        Assert.Equal(130_000 - 101_000, d.ArrivalDeltaMicros);
    }

    [Fact]
    public void ArrivalClockGoingBack_Resets()
    {
        var g = new InterArrivalGrouper();
        g.OnPacket(0, 100_000, 100, out _);
        g.OnPacket(20_000, 120_000, 100, out _);
        Assert.True(g.OnPacket(40_000, 10_000, 100, out _)); // closes group 2 (arrived 120 ms) normally
        Assert.False(g.OnPacket(60_000, 30_000, 100, out _)); // group 3 arrived at 10 ms, before group 2: reset
        Assert.False(g.OnPacket(80_000, 50_000, 100, out _)); // after a reset the next group has no predecessor
        Assert.Equal(1, g.Resets);
    }
}
