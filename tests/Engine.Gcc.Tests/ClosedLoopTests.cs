using Xunit.Abstractions;

namespace Engine.Gcc.Tests;

/// <summary>The estimator in a loop with an ideal encoder over emulated bottlenecks (RFC 8867 test cases).</summary>
public class ClosedLoopTests(ITestOutputHelper output)
{
    private static readonly ReceiveSideEstimatorOptions Options = new(50_000, 3_000_000, 300_000);

    private const long OneWay = 50_000;

    private List<PhaseStats> RunVariableCapacity(int seed, double randomLoss, long jitterMicros, out ClosedLoop loop,
        bool lossController = false, double goodToBad = 0)
    {
        // RFC 8867 §5.1: 1 / 2.5 / 0.6 / 1 Mbps at 0 / 40 / 60 / 80 s, 50 ms one-way, 300 ms queue, 100 s.
        var link = new LinkEmulator(seed, 1_000_000)
        {
            OneWayDelayMicros = OneWay,
            QueueLimitMicros = 300_000,
            RandomLoss = randomLoss,
            JitterMicros = jitterMicros,
            GoodToBad = goodToBad,
            BadToGood = 0.3,
            BadLoss = 0.5,
        }.At(40_000_000, 2_500_000).At(60_000_000, 600_000).At(80_000_000, 1_000_000);
        loop = new ClosedLoop(link, Options, OneWay)
        {
            Loss = lossController ? new LossBasedController(Options.MinBps, Options.MaxBps, Options.InitialBps) : null,
        };
        var phases = loop.Run(100_000_000, [0, 40_000_000, 60_000_000, 80_000_000]);
        Print(phases);
        return phases;
    }

    private void Print(List<PhaseStats> phases)
    {
        output.WriteLine("phase (s)   capacity  throughput  ratio  2nd half  mean target  p95 queue  max queue  lost");
        foreach (var p in phases)
            output.WriteLine($"{p.StartMicros / 1e6,4:0}-{p.EndMicros / 1e6,-4:0}  {p.CapacityBps / 1e3,6:0} kb  {p.ThroughputBps / 1e3,7:0} kb  {p.ThroughputBps / p.CapacityBps,5:P0}  {p.SecondHalfThroughputBps / p.CapacityBps,7:P0}  {p.MeanTargetBps / 1e3,8:0} kb  {p.P95QueueDelayMs,6:0.0} ms  {p.MaxQueueDelayMs,6:0.0} ms  {p.Lost,4}");
    }

    [Fact]
    public void Rfc8867VariableCapacity_TracksCapacityWithBoundedQueue()
    {
        var phases = RunVariableCapacity(seed: 1, randomLoss: 0, jitterMicros: 0, out var loop);
        // GCC_SERIES=path writes the 100 ms series (for bench/results/gcc-rfc8867-5.1.png); off by default.
        if (Environment.GetEnvironmentVariable("GCC_SERIES") is { Length: > 0 } seriesPath)
            File.WriteAllLines(seriesPath, loop.Series.Select(s => FormattableString.Invariant($"{s.Seconds:0.0},{s.TargetBps},{s.CapacityBps},{s.ReceivedBps:0}")));
        foreach (var p in phases)
        {
            Assert.True(p.ThroughputBps >= 0.6 * p.CapacityBps, $"phase at {p.StartMicros / 1e6} s: {p.ThroughputBps:0} of {p.CapacityBps}");
            Assert.True(p.ThroughputBps <= 1.01 * p.CapacityBps);
        }
        // Where capacity did not drop, the queue stays short and nothing overflows it.
        foreach (int i in new[] { 0, 1, 3 })
        {
            Assert.True(phases[i].P95QueueDelayMs <= 100, $"phase {i}: p95 {phases[i].P95QueueDelayMs:0.0} ms");
            Assert.Equal(0, phases[i].Lost);
        }
        // After the drop to 600 kbps the estimate falls under the new capacity within 3 s (the queue then
        // drains) and stays near it: no standing queue at the drop-tail limit.
        var afterDrop = loop.Series.Where(s => s.Seconds >= 63 && s.Seconds < 80).ToList();
        Assert.True(afterDrop[0].TargetBps < 600_000, $"target at 63 s: {afterDrop[0].TargetBps}");
        Assert.All(afterDrop, s => Assert.True(s.TargetBps < 750_000, $"target at {s.Seconds} s: {s.TargetBps}"));
    }

    [Fact]
    public void Rfc8867VariableCapacity_IsDeterministic()
    {
        var a = RunVariableCapacity(seed: 7, randomLoss: 0.01, jitterMicros: 5_000, out _);
        var b = RunVariableCapacity(seed: 7, randomLoss: 0.01, jitterMicros: 5_000, out _);
        Assert.Equal(a, b);
    }

    [Fact]
    public void ConstantCapacity_ConvergesFromBelowAndAbove()
    {
        foreach (long initial in new long[] { 150_000, 2_500_000 })
        {
            var link = new LinkEmulator(3, 1_500_000) { OneWayDelayMicros = OneWay, QueueLimitMicros = 300_000 };
            var loop = new ClosedLoop(link, Options with { InitialBps = initial }, OneWay);
            var phases = loop.Run(60_000_000, [0, 30_000_000]);
            output.WriteLine($"start {initial / 1000} kbps:");
            Print(phases);
            var settled = phases[1];
            Assert.True(settled.ThroughputBps >= 0.6 * settled.CapacityBps);
            Assert.True(settled.P95QueueDelayMs < 150);
        }
    }

    [Fact]
    public void Rfc8867VariableCapacity_WithJitterAndRandomLoss_StillTracks()
    {
        // 1% random loss (under the loss controller's 2% increase line) and 0-5 ms jitter on a FIFO path.
        var phases = RunVariableCapacity(seed: 11, randomLoss: 0.01, jitterMicros: 5_000, out _, lossController: true);
        foreach (var p in phases)
            Assert.True(p.ThroughputBps >= 0.5 * p.CapacityBps, $"phase at {p.StartMicros / 1e6} s: {p.ThroughputBps:0} of {p.CapacityBps}");
        foreach (int i in new[] { 0, 1, 3 })
            Assert.True(phases[i].P95QueueDelayMs <= 120, $"phase {i}: p95 {phases[i].P95QueueDelayMs:0.0} ms");
    }

    [Fact]
    public void HeavyBurstyLoss_LossControllerCutsTheRate()
    {
        // Gilbert-Elliott: P(good→bad) 0.05, P(bad→good) 0.3, half lost while bad: ~7% loss in bursts, plus
        // 8% random: well over the 10% decrease line. The delay signal alone would keep sending near capacity.
        var with = RunVariableCapacity(seed: 5, randomLoss: 0.08, jitterMicros: 0, out _, lossController: true, goodToBad: 0.05);
        var without = RunVariableCapacity(seed: 5, randomLoss: 0.08, jitterMicros: 0, out _, lossController: false, goodToBad: 0.05);
        double sumWith = with.Sum(p => p.MeanTargetBps), sumWithout = without.Sum(p => p.MeanTargetBps);
        Assert.True(sumWith < 0.8 * sumWithout, $"with loss control {sumWith:0}, without {sumWithout:0}");
        Assert.All(with, p => Assert.True(p.MeanTargetBps >= Options.MinBps));
    }
}
