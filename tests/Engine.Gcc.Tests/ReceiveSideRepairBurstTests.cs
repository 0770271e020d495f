using Xunit.Abstractions;

namespace Engine.Gcc.Tests;

/// <summary>
/// Issue 20: a Chromium-like 1080p publisher (2.5 Mbit/s, 30 fps of equal frames, paced at 2.5x its
/// rate; keyframes, whose own queue is the media's, are left out) through a 4 Mbit/s link with 100 ms each way and seeded random loss. Each lost
/// packet is resent as RTX one RTT later, the resends of one NACK back to back, and every second the
/// sender probes with a cluster of redundant RTX; all share the link's queue. The receive-side
/// estimate must not be cut by those bursts, and must still fall when the link itself drops.
/// Fake clock, seeded: the same arrivals every run.
/// </summary>
public class ReceiveSideRepairBurstTests(ITestOutputHelper log)
{
    private const long MaxBps = 3_000_000;
    private const long RttMicros = 200_000;
    private static readonly ReceiveSideEstimatorOptions Options = new(100_000, MaxBps, MaxBps); // starts at the cap, as PublishSession does

    private readonly record struct Send(long At, int Size, ReceivedPacketKind Kind);

    private sealed record Run(long MinEstimateAfterWarmUp, long EstimateAtEnd, long MinEstimateLastSeconds, long Lost, long Resent, ReceiveSideEstimator Estimator);

    /// <param name="asMedia">feed every packet as media (what the estimator was given before issue 20's fix)</param>
    private static Run Simulate(double loss, int seed, bool asMedia, long linkDropAtMicros = long.MaxValue, long droppedToBps = 0, long seconds = 20, bool probes = true, Action<string>? trace = null)
    {
        var link = new LinkEmulator(seed, 4_000_000) { OneWayDelayMicros = 100_000, QueueLimitMicros = 250_000, RandomLoss = loss };
        if (linkDropAtMicros != long.MaxValue)
            link.At(linkDropAtMicros, droppedToBps);
        var e = new ReceiveSideEstimator(Options) { RttMicros = RttMicros };
        var queue = new PriorityQueue<Send, (long, long)>();
        long order = 0;
        void Schedule(Send s) => queue.Enqueue(s, (s.At, order++));

        const long frameMicros = 33_333, mediaBps = 2_500_000;
        const double pacingBps = 2.5 * mediaBps;
        long paceFree = 0;
        for (int f = 0; f * frameMicros < seconds * 1_000_000; f++)
        {
            long t = f * frameMicros;
            int bytes = (int)(mediaBps / 8 / 30);
            long at = Math.Max(t, paceFree);
            for (int left = bytes; left > 0; left -= 1160)
            {
                int size = Math.Min(1160, left) + 40;
                Schedule(new Send(at, size, ReceivedPacketKind.Media));
                at += (long)(size * 8 * 1e6 / pacingBps);
            }
            paceFree = at;
        }
        for (long t = 1_000_000; probes && t < seconds * 1_000_000; t += 1_000_000)
            for (int i = 0; i < 12; i++) // a 15 ms probe cluster at ~7.5 Mbit/s, redundant RTX
                Schedule(new Send(t + 500_000 + i * 1_250, 1200, ReceivedPacketKind.Retransmission));

        long minAfterWarmUp = long.MaxValue, minLast = long.MaxValue, lost = 0, resent = 0;
        long resendFree = 0;
        while (queue.TryDequeue(out var s, out _))
        {
            var outcome = link.Send(s.At, s.Size);
            if (!outcome.Delivered)
            {
                if (outcome.DroppedByQueue)
                    continue;
                lost++;
                // Found at the next packet (+100 ms one way), NACKed every 20 ms, answered one way later:
                // the resends of one NACK leave back to back.
                long found = s.At + 100_000;
                long nack = found + (20_000 - found % 20_000);
                long resendAt = Math.Max(nack + 100_000, resendFree);
                resendFree = resendAt + 200;
                Schedule(new Send(resendAt, s.Size, ReceivedPacketKind.Retransmission));
                resent++;
                continue;
            }
            long before = e.Estimate;
            e.OnPacket(outcome.ArrivalMicros, AbsSendTime.FromMicros(s.At), s.Size, asMedia ? ReceivedPacketKind.Media : s.Kind);
            if (e.Estimate < before)
                trace?.Invoke($"{outcome.ArrivalMicros / 1000} ms: cut {before} -> {e.Estimate}, kind {s.Kind}, queue {(outcome.ArrivalMicros - s.At - 100_000) / 1000} ms, threshold {e.ThresholdMs:F1}");
            if (outcome.ArrivalMicros > 3_000_000)
                minAfterWarmUp = Math.Min(minAfterWarmUp, e.Estimate);
            if (outcome.ArrivalMicros > (seconds - 3) * 1_000_000)
                minLast = Math.Min(minLast, e.Estimate);
        }
        return new Run(minAfterWarmUp, e.Estimate, minLast, lost, resent, e);
    }

    private void Print(string title, Run r) =>
        log.WriteLine($"{title}: min estimate after 3 s {r.MinEstimateAfterWarmUp / 1e6:F2} Mbit/s, last 3 s min {r.MinEstimateLastSeconds / 1e6:F2}, at the end {r.EstimateAtEnd / 1e6:F2}; lost {r.Lost}, resent {r.Resent}; " +
            $"retransmissions {r.Estimator.RetransmittedPackets}, delay taken off {r.Estimator.ForeignDelayRemovedMicros / 1000} ms");

    [Theory]
    [InlineData(0.01, 20)]
    [InlineData(0.05, 25)]
    [InlineData(0.05, 7)]
    public void RepairAndProbeBursts_DoNotCutTheRemb(double loss, int seed)
    {
        var run = Simulate(loss, seed, asMedia: false);
        Print($"{loss:P0} loss, seed {seed}", run);
        Assert.True(run.Resent > 0);
        // Never below what the REMB schedule would send at once (97 % of the last): no cut at all.
        Assert.True(run.MinEstimateAfterWarmUp >= RembScheduler.ImmediateDropRatio * MaxBps, $"cut to {run.MinEstimateAfterWarmUp}");
        Assert.Equal(MaxBps, run.EstimateAtEnd);
    }

    [Fact]
    public void TheSameArrivalsAllGroupedAsMedia_AreReadAsOveruse()
    {
        // The test above would catch the old feed: the bursts, grouped as media, cut the estimate.
        var run = Simulate(0.05, 25, asMedia: true);
        Print("5% loss, all grouped as media", run);
        Assert.True(run.MinEstimateAfterWarmUp < 0.9 * MaxBps, $"no cut: {run.MinEstimateAfterWarmUp}");
    }

    [Theory]
    [InlineData(0.0, 3)]
    [InlineData(0.05, 25)]
    public void ALinkThatDropsBelowTheMediaRate_StillCutsTheRemb(double loss, int seed)
    {
        // At 10 s the link falls to 1.5 Mbit/s under the 2.5 Mbit/s the (open-loop) sender keeps sending.
        var run = Simulate(loss, seed, asMedia: false, linkDropAtMicros: 10_000_000, droppedToBps: 1_500_000, seconds: 14);
        Print($"{loss:P0} loss, link 4 → 1.5 Mbit/s at 10 s", run);
        Assert.True(run.EstimateAtEnd <= 1_500_000, $"estimate {run.EstimateAtEnd} over a 1.5 Mbit/s link");
        Assert.True(run.EstimateAtEnd >= 500_000, $"estimate {run.EstimateAtEnd} collapsed");
    }

    [Fact]
    public void RetransmissionsAndPaddingAllocateNothing()
    {
        var e = new ReceiveSideEstimator(Options);
        long t = 0;
        for (int i = 0; i < 2000; i++, t += 1_000)
            e.OnPacket(t + 100_000, AbsSendTime.FromMicros(t), 1200, (i % 7) switch { 0 => ReceivedPacketKind.Retransmission, 1 => ReceivedPacketKind.Padding, _ => ReceivedPacketKind.Media });
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20_000; i++, t += 1_000)
        {
            e.OnPacket(t + 100_000 + (i / 500 % 2) * (i % 500) * 50, AbsSendTime.FromMicros(t), 1200,
                (i % 7) switch { 0 => ReceivedPacketKind.Retransmission, 1 => ReceivedPacketKind.Padding, _ => ReceivedPacketKind.Media });
            e.TryTakeRemb(t + 100_000, out _);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(e.RetransmittedPackets > 0 && e.PaddingPackets > 0);
    }
}
