using Xunit.Abstractions;

namespace Engine.Gcc.Tests;

/// <summary>
/// The send side in closed loop over the emulated path (the RFC 8867 cases). Where an issue goal
/// holds it is asserted; where it does not, the test asserts the weaker behaviour that must hold and
/// says so, and bench/results/gcc.md records by how much and why.
/// </summary>
public class SendSideScenarioTests(ITestOutputHelper output)
{
    private const double Goal = 0.85, DelayGoalMs = 60;

    private SendSideScenario Run(Func<SendSideScenario> make)
    {
        var s = make().Run();
        foreach (var line in s.Table())
            output.WriteLine(line);
        return s;
    }

    [Fact]
    public void Rfc8867_5_1_VariableCapacity()
    {
        var s = Run(SendSideScenarios.Rfc8867_5_1);
        var p = s.Stats![0];
        foreach (var phase in p)
        {
            Assert.True(phase.SettledRatio <= 1.01, $"{phase.StartMicros / 1e6} s: {phase.SettledRatio:P0}");
            Assert.True(phase.SettledP95QueueDelayMs <= DelayGoalMs, $"{phase.StartMicros / 1e6} s: p95 {phase.SettledP95QueueDelayMs:0.0} ms");
        }
        // All four phases (94 / 87 / 89 / 92 %): the rise to 2.5 Mbps at 40 s is found by room probes (71% without).
        for (int i = 0; i < p.Length; i++)
            Assert.True(p[i].SettledRatio >= Goal, $"phase {i}: {p[i].SettledRatio:P0}");
        double recovery = s.RecoverySeconds(0, 60, 80);
        Assert.InRange(recovery, 0, 2.0);
        var e = s.Loop.Flows[0].Estimator;
        Assert.True(e.ProbesMeasured >= 2);
        // Room probes only while the AIMD searches: none at the steady 1 Mbps of 0-40 s, where each would cost a cut.
        Assert.InRange(e.RoomProbesStarted, 1, 6);
    }

    [Fact]
    public void Rfc8867_5_1_IsDeterministic()
    {
        var a = SendSideScenarios.Rfc8867_5_1().Run().Stats![0];
        var b = SendSideScenarios.Rfc8867_5_1().Run().Stats![0];
        Assert.Equal(a, b);
    }

    [Fact]
    public void TwoFlows_ShareFairly_AndFillTheLink()
    {
        var s = Run(SendSideScenarios.TwoFlows);
        double jain = s.Jain(30, 125);
        output.WriteLine($"Jain index 30-125 s: {jain:0.000}");
        Assert.True(jain >= 0.9, $"Jain {jain:0.000}");
        var a = s.Stats![0];
        var b = s.Stats![1];
        for (int i = 0; i < a.Length; i++)
        {
            double together = (a[i].SettledThroughputBps + b[i].SettledThroughputBps) / a[i].CapacityBps;
            output.WriteLine($"phase {i}: both {together:P0}, Jain {SendSideLoop.Jain([a[i].SettledThroughputBps, b[i].SettledThroughputBps]):0.000}");
            Assert.True(together >= Goal && together <= 1.01, $"phase {i}: {together:P0}");
            // Every phase, the first too (B joins at 5 s onto a link A fills): 39.0 / 42.4 ms there since probes are of
            // full-size packets (60.6 / 69.8 ms before, when B's start probes read room that was not there).
            Assert.True(a[i].SettledP95QueueDelayMs <= DelayGoalMs, $"A phase {i}: p95 {a[i].SettledP95QueueDelayMs:0.0} ms");
            Assert.True(b[i].SettledP95QueueDelayMs <= DelayGoalMs, $"B phase {i}: p95 {b[i].SettledP95QueueDelayMs:0.0} ms");
        }
    }

    [Fact]
    public void CongestedFeedback_BothDirectionsKeepTracking()
    {
        var s = Run(SendSideScenarios.CongestedFeedback);
        foreach (var flow in s.Stats!)
            foreach (var p in flow)
            {
                // Goal 85% met in all 7 (92-94%): room probes find the 2 Mbps after the low phases (81% without).
                Assert.True(p.SettledRatio is >= Goal and <= 1.01, $"{p.StartMicros / 1e6} s: {p.SettledRatio:P0}");
                // Goal 60 ms met in all 7 (the 0.5 Mbps forward phase, where one 1200-byte packet is 19 ms, with 58.9 ms).
                Assert.True(p.SettledP95QueueDelayMs <= DelayGoalMs, $"{p.StartMicros / 1e6} s: p95 {p.SettledP95QueueDelayMs:0.0} ms");
            }
        Assert.All(s.Loop.Flows, f => Assert.True(f.FeedbackPacketsSent > 1900));
    }

    [Fact]
    public void TenPercentLoss_StaysAbove100Kbps()
    {
        var s = Run(SendSideScenarios.Loss10);
        var (min, _) = s.TargetRange(0, 5, 60);
        output.WriteLine($"target 5-60 s: min {min}");
        Assert.True(min > 100_000, $"min target {min}");
        Assert.True(s.Stats![0][0].SettledThroughputBps > 0.3 * 2_000_000);
    }

    [Fact]
    public void ThreePercentLoss_StaysBelow2500Kbps_AsTheLinkGrows()
    {
        var s = Run(SendSideScenarios.Loss3Ramp);
        var (min, max) = s.TargetRange(0, 5, 60);
        output.WriteLine($"target 5-60 s: {min}-{max}");
        Assert.True(max < 2_500_000, $"max target {max}");
        Assert.True(min > 500_000, $"min target {min}"); // it holds, it does not collapse
    }

    [Fact]
    public void TenMegabitLink_Reaches5MbpsWithin10s()
    {
        var s = Run(SendSideScenarios.Ramp10M);
        double t = s.SecondsToReach(0, 5_000_000);
        double kept = s.SecondsToStayAbove(0, 5_000_000);
        output.WriteLine($"5 Mbps received at {t} s, and from {kept} s on");
        Assert.InRange(t, 0.1, 10);
        // And stays there: the acknowledged rate restarts at a probe result, so the first over-use cuts from the
        // probed rate (without the restart it cut to 4.1 Mbps and 5 Mbps was kept only from 3.9 s).
        Assert.InRange(kept, t, 2);
        Assert.True(s.Stats![0][0].SettledRatio >= Goal);
        Assert.True(s.Loop.Flows[0].Estimator.ProbesMeasured >= 4); // 3x, 6x and the doublings
    }

    [Fact]
    public void ApplicationLimited_ProbesFindThePath()
    {
        var s = Run(SendSideScenarios.AppLimited);
        var f = s.Loop.Flows[0];
        Assert.True(f.Estimator.InAlr);
        Assert.True(f.Estimator.ProbesStarted >= 5, $"{f.Estimator.ProbesStarted} probes"); // the initial ones, then one per 5 s
        var (min, _) = s.TargetRange(0, 10, 30);
        Assert.True(min >= 1_500_000, $"target {min} while sending 500 kbps");
        Assert.True(s.Stats![0][0].SettledThroughputBps < 600_000);
    }
}
