namespace Engine.Gcc.Tests;

/// <summary>Per-phase figures of a closed-loop run.</summary>
public readonly record struct PhaseStats(long StartMicros, long EndMicros, long CapacityBps, double ThroughputBps,
    double MeanTargetBps, double P95QueueDelayMs, double MaxQueueDelayMs, long Lost, double SecondHalfThroughputBps);

/// <summary>
/// An ideal encoder (sends exactly at the last REMB value, 30 fps, frames split into 1200-byte packets,
/// abs-send-time stamped) across a <see cref="LinkEmulator"/> into a <see cref="ReceiveSideEstimator"/>,
/// with REMB fed back after the one-way delay. 1 ms virtual steps; fully deterministic.
/// </summary>
public sealed class ClosedLoop
{
    public const int PacketBytes = 1200;
    public const long FrameIntervalMicros = 1_000_000 / 30;
    public const long StepMicros = 1_000;
    public const long SampleMicros = 100_000;

    private readonly LinkEmulator _link;
    private readonly ReceiveSideEstimator _estimator;
    private readonly long _feedbackDelayMicros;

    public ClosedLoop(LinkEmulator link, ReceiveSideEstimatorOptions options, long feedbackDelayMicros)
    {
        _link = link;
        _estimator = new ReceiveSideEstimator(options);
        _feedbackDelayMicros = feedbackDelayMicros;
        TargetBps = options.InitialBps;
    }

    public long TargetBps { get; private set; }

    /// <summary>When set, the sender also runs the loss-based controller on a loss report every second and sends at min(REMB, it).</summary>
    public LossBasedController? Loss { get; init; }

    /// <summary>RTCP receiver reports (loss fraction) are sent this often.</summary>
    public const long ReportIntervalMicros = 1_000_000;

    public ReceiveSideEstimator Estimator => _estimator;

    /// <summary>(time s, target bps, capacity bps, received bps over the last sample) every 100 ms.</summary>
    public List<(double Seconds, long TargetBps, long CapacityBps, double ReceivedBps)> Series { get; } = [];

    public List<PhaseStats> Run(long durationMicros, long[] phaseStarts)
    {
        var arrivals = new PriorityQueue<(long Arrival, long Send, int Size), (long, long)>();
        var feedback = new Queue<(long At, long Bps)>();
        var delays = new List<double>[phaseStarts.Length];
        var bytes = new long[phaseStarts.Length];
        var secondHalfBytes = new long[phaseStarts.Length];
        var targetSum = new double[phaseStarts.Length];
        var targetSamples = new long[phaseStarts.Length];
        var lost = new long[phaseStarts.Length];
        for (int i = 0; i < delays.Length; i++) delays[i] = [];
        long seq = 0, nextFrame = 0, sampleBytes = 0, nextSample = SampleMicros;
        var reports = new Queue<(long At, double Loss)>();
        long intervalSent = 0, intervalLost = 0, nextReport = ReportIntervalMicros, rembBps = TargetBps;

        for (long now = 0; now < durationMicros; now += StepMicros)
        {
            int phase = PhaseOf(phaseStarts, now);
            if (now >= nextFrame)
            {
                nextFrame += FrameIntervalMicros;
                long frameBytes = Math.Max(1, TargetBps / 8 / 30);
                while (frameBytes > 0)
                {
                    int size = (int)Math.Min(PacketBytes, frameBytes);
                    frameBytes -= size;
                    var outcome = _link.Send(now, size);
                    intervalSent++;
                    if (outcome.Delivered)
                        arrivals.Enqueue((outcome.ArrivalMicros, now, size), (outcome.ArrivalMicros, seq++));
                    else
                    {
                        lost[phase]++;
                        intervalLost++;
                    }
                }
            }
            while (arrivals.TryPeek(out var p, out _) && p.Arrival <= now)
            {
                arrivals.Dequeue();
                _estimator.OnPacket(p.Arrival, AbsSendTime.FromMicros(p.Send), p.Size);
                int ap = PhaseOf(phaseStarts, p.Arrival);
                bytes[ap] += p.Size;
                long apEnd = ap + 1 < phaseStarts.Length ? phaseStarts[ap + 1] : durationMicros;
                if (p.Arrival >= (phaseStarts[ap] + apEnd) / 2)
                    secondHalfBytes[ap] += p.Size;
                sampleBytes += p.Size;
                delays[ap].Add((p.Arrival - p.Send - _link.OneWayDelayMicros) / 1000.0);
            }
            if (_estimator.TryTakeRemb(now, out long bps))
                feedback.Enqueue((now + _feedbackDelayMicros, bps));
            if (now >= nextReport)
            {
                // The sender-side count stands in for the receiver's: the same loss, reported one way later.
                reports.Enqueue((now + _feedbackDelayMicros, intervalSent == 0 ? 0 : (double)intervalLost / intervalSent));
                intervalSent = intervalLost = 0;
                nextReport += ReportIntervalMicros;
            }
            while (feedback.Count > 0 && feedback.Peek().At <= now)
                rembBps = feedback.Dequeue().Bps;
            while (reports.Count > 0 && reports.Peek().At <= now)
            {
                var report = reports.Dequeue();
                if (Loss is null) continue;
                Loss.CapTo(TargetBps); // a loss step applies to what is being sent, not to an estimate that ran ahead
                Loss.OnLoss(report.Loss, now);
            }
            TargetBps = Loss is null ? rembBps : Math.Min(rembBps, Loss.EstimateBps);
            targetSum[phase] += TargetBps;
            targetSamples[phase]++;
            if (now + StepMicros >= nextSample)
            {
                Series.Add((nextSample / 1e6, TargetBps, _link.CapacityAt(now), sampleBytes * 8 * 1e6 / SampleMicros));
                sampleBytes = 0;
                nextSample += SampleMicros;
            }
        }

        var result = new List<PhaseStats>();
        for (int i = 0; i < phaseStarts.Length; i++)
        {
            long start = phaseStarts[i], end = i + 1 < phaseStarts.Length ? phaseStarts[i + 1] : durationMicros;
            var d = delays[i];
            d.Sort();
            double p95 = d.Count == 0 ? 0 : d[(int)Math.Min(d.Count - 1, Math.Ceiling(0.95 * d.Count) - 1)];
            double max = d.Count == 0 ? 0 : d[^1];
            result.Add(new PhaseStats(start, end, _link.CapacityAt(start), bytes[i] * 8 * 1e6 / (end - start),
                targetSum[i] / Math.Max(1, targetSamples[i]), p95, max, lost[i], secondHalfBytes[i] * 8 * 1e6 / ((end - start) / 2)));
        }
        return result;
    }

    private static int PhaseOf(long[] starts, long micros)
    {
        int phase = 0;
        for (int i = 0; i < starts.Length; i++)
            if (micros >= starts[i]) phase = i;
        return phase;
    }
}
