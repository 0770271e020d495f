namespace Engine.Gcc.Tests;

public class ProbeControllerTests
{
    [Fact]
    public void Start_ProbesThreeAndSixTimes_ThenDoublesWhileResultsKeepUp()
    {
        var c = new ProbeController(50_000, 20_000_000, 300_000);
        Assert.True(c.TryTakeProbe(0, false, out var a));
        Assert.True(c.TryTakeProbe(0, false, out var b));
        Assert.Equal((900_000L, 1_800_000L), (a.TargetBps, b.TargetBps));
        Assert.True(a.MinPackets >= 5 && b.MinBytes >= 1_800_000 * 15 / 8000);
        Assert.True(a.MinBytes >= a.MinPackets * ProbeController.FullPacketBytes); // no 1-byte paddings to make up the count
        Assert.NotEqual(a.Id, b.Id);
        Assert.False(c.TryTakeProbe(0, false, out _));

        c.OnProbeResult(880_000, 100_000); // the first: under 70% of the highest probe, wait for the second
        Assert.False(c.TryTakeProbe(100_000, false, out _));
        c.OnProbeResult(1_700_000, 120_000); // over 70%: more may be there
        Assert.True(c.TryTakeProbe(120_000, false, out var next));
        Assert.Equal(3_400_000, next.TargetBps);
        c.OnProbeResult(2_000_000, 300_000); // the path saturated at 2 Mbps: stop
        Assert.False(c.TryTakeProbe(300_000, false, out _));
        Assert.False(c.TryTakeProbe(5_000_000, false, out _)); // not app-limited: no more probes
    }

    [Fact]
    public void ApplicationLimited_ProbesEveryFiveSecondsAtTwiceTheEstimate()
    {
        var c = new ProbeController(50_000, 20_000_000, 300_000);
        c.TryTakeProbe(0, false, out _);
        c.TryTakeProbe(0, false, out _);
        c.OnEstimate(1_000_000);
        Assert.False(c.TryTakeProbe(2_000_000, true, out _)); // the initial probes were under 5 s ago
        Assert.True(c.TryTakeProbe(5_000_000, true, out var p));
        Assert.Equal(2_000_000, p.TargetBps);
        Assert.False(c.TryTakeProbe(7_000_000, true, out _));
        Assert.True(c.TryTakeProbe(10_000_000, true, out _));
        Assert.Equal(4, c.ProbesStarted);
    }

    [Fact]
    public void Probes_StayWithinTheBounds()
    {
        var c = new ProbeController(50_000, 1_000_000, 300_000);
        c.TryTakeProbe(0, false, out var a);
        c.TryTakeProbe(0, false, out var b);
        Assert.Equal(900_000, a.TargetBps);
        Assert.Equal(1_000_000, b.TargetBps);
        c.OnProbeResult(1_000_000, 100_000); // at the max: nothing higher to try
        Assert.False(c.TryTakeProbe(100_000, false, out _));
    }
}

public class ProbeControllerRoomTests
{
    private const long S = 1_000_000;

    // The initial probes out and settled (the second saturated at 1 Mbps): exponential probing is over.
    private static ProbeController Started(long estimateBps = 1_000_000)
    {
        var c = new ProbeController(50_000, 5_000_000, 300_000);
        c.TryTakeProbe(0, false, out _);
        c.TryTakeProbe(0, false, out _);
        c.OnProbeResult(880_000, true, 100_000);
        c.OnProbeResult(950_000, true, 120_000);
        c.OnEstimate(estimateBps);
        return c;
    }

    [Fact]
    public void Searching_WithoutOveruse_ProbesAtOneAndAHalfTimesTheEstimate_LongerThanOtherProbes()
    {
        var c = Started();
        c.OnDelayState(searching: true, overusing: false, 1 * S);
        Assert.False(c.TryTakeProbe(4 * S, false, out _)); // the initial probes were under 5 s ago
        Assert.True(c.TryTakeProbe(5 * S, false, out var p));
        Assert.Equal(1_500_000, p.TargetBps);
        Assert.Equal(ProbeController.RoomProbeMinPackets, p.MinPackets);
        Assert.Equal(ProbeController.RoomProbeMinPackets * ProbeController.FullPacketBytes, p.MinBytes); // 40 ms would be 7500
        Assert.Equal(1, c.RoomProbesStarted);
        Assert.False(c.TryTakeProbe(5 * S + 1000, false, out _)); // one at a time
    }

    [Fact]
    public void NotNearConvergence_NorInAlr_NorSoonAfterOveruse()
    {
        var c = Started();
        c.OnDelayState(searching: false, overusing: false, 1 * S);
        Assert.False(c.TryTakeProbe(10 * S, false, out _)); // at its capacity estimate: a probe only queues

        c.OnDelayState(searching: true, overusing: true, 10 * S);
        c.OnDelayState(searching: true, overusing: false, 11 * S);
        Assert.False(c.TryTakeProbe(12 * S, false, out _)); // over-use 2 s ago
        Assert.False(c.TryTakeProbe(13 * S - 1, false, out _));
        Assert.True(c.TryTakeProbe(13 * S, false, out var p)); // 3 s quiet
        Assert.Equal(1_500_000, p.TargetBps);

        var alr = Started();
        alr.OnDelayState(searching: true, overusing: false, 1 * S);
        Assert.True(alr.TryTakeProbe(6 * S, true, out var a)); // in ALR the ALR probe (2x) runs instead
        Assert.Equal(2_000_000, a.TargetBps);
        Assert.Equal(0, alr.RoomProbesStarted);
    }

    [Fact]
    public void Carried_RaisesAndProbesHigher_UntilOneSaturates()
    {
        var c = Started();
        c.OnDelayState(true, false, 1 * S);
        Assert.True(c.TryTakeProbe(5 * S, false, out _));
        Assert.True(c.OnProbeResult(1_480_000, false, 5 * S + 150_000)); // carried: the estimate may take it
        c.OnEstimate(1_480_000);
        Assert.True(c.TryTakeProbe(5 * S + 150_000, false, out var next));
        Assert.Equal(2_220_000, next.TargetBps);
        Assert.Equal(ProbeController.RoomProbeMinPackets, next.MinPackets);
        Assert.False(c.OnProbeResult(2_100_000, true, 5 * S + 300_000)); // saturated: a share of the link, refused
        Assert.False(c.TryTakeProbe(5 * S + 300_000, false, out _));
        Assert.False(c.TryTakeProbe(9 * S, false, out _)); // and not again within 5 s
        Assert.True(c.TryTakeProbe(10 * S + 300_000, false, out _));
        Assert.Equal(2, c.RoomProbesStarted); // a chain's later steps are not counted again
    }

    [Fact]
    public void Unsaturated_ButBarelyAboveTheEstimate_IsRefused()
    {
        var c = Started();
        c.OnDelayState(true, false, 1 * S);
        Assert.True(c.TryTakeProbe(5 * S, false, out _));
        Assert.False(c.OnProbeResult(1_090_000, false, 5 * S + 150_000)); // under 1.1x the estimate: nothing new
        Assert.False(c.TryTakeProbe(5 * S + 150_000, false, out _));
    }

    [Fact]
    public void NoResult_WithinTheTimeout_EndsTheRoomProbe()
    {
        var c = Started();
        c.OnDelayState(true, false, 1 * S);
        Assert.True(c.TryTakeProbe(5 * S, false, out _));
        Assert.False(c.TryTakeProbe(6 * S + 1, false, out _)); // timed out
        // A late result is not a room probe's any more (the controller has moved on): it is taken as any other.
        Assert.True(c.OnProbeResult(1_400_000, false, 6 * S + 10));
        Assert.True(c.TryTakeProbe(10 * S, false, out var p));
        Assert.Equal(1_500_000, p.TargetBps);
    }

    [Fact]
    public void AtTheMax_NoRoomProbe()
    {
        var c = Started(5_000_000);
        c.OnDelayState(true, false, 1 * S);
        Assert.False(c.TryTakeProbe(20 * S, false, out _));
    }
}
