namespace Engine.Gcc.Tests;

/// <summary>
/// Runs <see cref="SendSideFlow"/>s over shared <see cref="LinkEmulator"/>s on one virtual clock in
/// 1 ms steps: deliveries due, then each flow's receiver (feedback) and sender (encode, probe, pace).
/// Deterministic for given seeds.
/// </summary>
public sealed class SendSideLoop
{
    public const long StepMicros = 1_000;
    public const long SampleMicros = 100_000;

    private readonly PriorityQueue<SendSideDelivery, (long, long)> _inFlight = new();
    private long _order;

    public SendSideLoop(params SendSideFlow[] flows) => Flows = flows;

    public IReadOnlyList<SendSideFlow> Flows { get; }

    internal void Deliver(in SendSideDelivery d) => _inFlight.Enqueue(d, (d.ArrivalMicros, _order++));

    /// <summary>Per flow, per phase figures; a phase's first <paramref name="settleMicros"/> are left out of the settled ones.</summary>
    public SendSidePhaseStats[][] Run(long durationMicros, long[] phaseStarts, long settleMicros = 5_000_000)
    {
        foreach (var f in Flows)
            f.Prepare(phaseStarts, durationMicros, settleMicros);
        for (long now = 0; now < durationMicros; now += StepMicros)
        {
            while (_inFlight.TryPeek(out var d, out _) && d.ArrivalMicros <= now)
            {
                _inFlight.Dequeue();
                d.Flow.OnDelivered(d, now);
            }
            foreach (var f in Flows)
                f.FeedbackStep(now, this);
            foreach (var f in Flows)
                f.SendStep(now, this);
            foreach (var f in Flows)
                f.Sample(now, SampleMicros);
        }
        var result = new SendSidePhaseStats[Flows.Count][];
        for (int i = 0; i < Flows.Count; i++)
        {
            var f = Flows[i];
            result[i] = f.Phases.Select(p => p.Stats(f.Forward.CapacityAt(p.StartMicros))).ToArray();
        }
        return result;
    }

    /// <summary>Jain's fairness index of the given throughputs: 1 when equal, 1/n when one flow has everything.</summary>
    public static double Jain(IReadOnlyList<double> x)
    {
        double sum = x.Sum(), squares = x.Sum(v => v * v);
        return squares == 0 ? 1 : sum * sum / (x.Count * squares);
    }
}
