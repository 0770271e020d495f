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
