namespace Engine.Gcc.Tests;

/// <summary>A named send-side run: its flows over their links, the duration and the phase boundaries.</summary>
public sealed class SendSideScenario(string name, string title, SendSideLoop loop, long durationMicros, long[] phaseStarts)
{
    public string Name { get; } = name;
    public string Title { get; } = title;
    public SendSideLoop Loop { get; } = loop;
    public long DurationMicros { get; } = durationMicros;
    public long[] PhaseStarts { get; } = phaseStarts;

    /// <summary>Per flow, per phase (null until <see cref="Run"/>).</summary>
    public SendSidePhaseStats[][]? Stats { get; private set; }

    public SendSideScenario Run()
    {
        Stats = Loop.Run(DurationMicros, PhaseStarts);
        return this;
    }

    /// <summary>First time the flow's media, averaged over 500 ms, reached <paramref name="bps"/> (-1: never).</summary>
    public double SecondsToReach(int flow, double bps)
    {
        var s = Loop.Flows[flow].Series;
        for (int i = 4; i < s.Count; i++)
        {
            double mean = 0;
            for (int j = i - 4; j <= i; j++) mean += s[j].ReceivedBps;
            if (mean / 5 >= bps)
                return s[i].Seconds;
        }
        return -1;
    }

    /// <summary>From when the flow's media, averaged over 500 ms, stayed at or above <paramref name="bps"/> to the end (-1: it ended below).</summary>
    public double SecondsToStayAbove(int flow, double bps)
    {
        var s = Loop.Flows[flow].Series;
        for (int i = s.Count - 1; i >= 4; i--)
        {
            double mean = 0;
            for (int j = i - 4; j <= i; j++) mean += s[j].ReceivedBps;
            if (mean / 5 < bps)
                return i == s.Count - 1 ? -1 : s[i + 1].Seconds;
        }
        return s.Count > 0 ? s[0].Seconds : -1;
    }

    /// <summary>First time the flow's target reached <paramref name="bps"/> (-1: never).</summary>
    public double SecondsToTarget(int flow, long bps) => Loop.Flows[flow].Series.FirstOrDefault(x => x.TargetBps >= bps).Seconds is var t && t > 0 ? t : -1;

    /// <summary>Smallest and largest target between two times.</summary>
    public (long Min, long Max) TargetRange(int flow, double fromSeconds, double toSeconds)
    {
        var w = Loop.Flows[flow].Series.Where(x => x.Seconds > fromSeconds && x.Seconds <= toSeconds).ToList();
        return (w.Min(x => x.TargetBps), w.Max(x => x.TargetBps));
    }

    /// <summary>
    /// Seconds from <paramref name="fromSeconds"/> until the queuing delay is back under 60 ms: the start of the
    /// first run of 1 s of 100 ms samples whose mean delay is under 60 ms (0: it never left; -1: never came back).
    /// </summary>
    public double RecoverySeconds(int flow, double fromSeconds, double toSeconds)
    {
        var w = Loop.Flows[flow].Series.Where(x => x.Seconds > fromSeconds && x.Seconds <= toSeconds).ToList();
        int run = 0;
        for (int i = 0; i < w.Count; i++)
        {
            run = w[i].MeanQueueDelayMs < PhaseAccumulator.DelayGoalMs ? run + 1 : 0;
            if (run == 10)
                return Math.Round(w[i - 9].Seconds - 0.1 - fromSeconds, 1);
        }
        return -1;
    }

    /// <summary>Jain's index of the flows' media throughput between two times.</summary>
    public double Jain(double fromSeconds, double toSeconds) =>
        SendSideLoop.Jain(Loop.Flows.Select(f => f.Series.Where(x => x.Seconds > fromSeconds && x.Seconds <= toSeconds).Average(x => x.ReceivedBps)).ToList());

    /// <summary>The per-phase table (one row per flow and phase), plain text.</summary>
    public IEnumerable<string> Table()
    {
        yield return $"{Name}: {Title}";
        yield return "flow  phase (s)   capacity  throughput  settled  ratio  mean target  p95 queue  max queue  recovery  lost";
        for (int f = 0; f < Loop.Flows.Count; f++)
            foreach (var p in Stats![f])
            {
                double recovery = RecoverySeconds(f, p.StartMicros / 1e6, p.EndMicros / 1e6);
                yield return FormattableString.Invariant(
                    $"{Loop.Flows[f].Name,-4}  {p.StartMicros / 1e6,4:0}-{p.EndMicros / 1e6,-4:0}  {p.CapacityBps / 1e3,6:0} kb  {p.ThroughputBps / 1e3,7:0} kb  {p.SettledThroughputBps / 1e3,5:0} kb  {p.SettledRatio,5:P0}  {p.SettledMeanTargetBps / 1e3,8:0} kb  {p.SettledP95QueueDelayMs,6:0.0} ms  {p.MaxQueueDelayMs,6:0.0} ms  {recovery,5:0.0} s  {p.Lost,4}");
            }
        foreach (var f in Loop.Flows)
            yield return FormattableString.Invariant(
                $"{f.Name}: probes {f.Estimator.ProbesStarted} started ({f.Estimator.RoomProbesStarted} room), {f.Estimator.ProbesMeasured} measured, {f.Estimator.ProbesFailed} failed; padding {f.PaddingPacketsSent} packets; pacer expired {f.Pacer.Expired}, refused {f.Pacer.DroppedFull}; feedback {f.FeedbackPacketsSent} sent, {f.FeedbackPacketsLost} lost");
    }
}
