namespace Engine.Gcc.Tests;

/// <summary>Collects a flow's media arrivals, delays, losses and targets within one phase.</summary>
public sealed class PhaseAccumulator(long startMicros, long endMicros, long settleMicros)
{
    /// <summary>The bound on queuing delay, used for the recovery time.</summary>
    public const double DelayGoalMs = 60;

    private readonly List<double> _settledDelays = [];
    private long _bytes, _settledBytes, _lost;
    private double _maxDelay, _targetSum;
    private long _targetSamples;

    public long StartMicros { get; } = startMicros;
    public long EndMicros { get; } = endMicros;
    public long SettleMicros { get; } = settleMicros;

    private bool Settled(long micros) => micros >= StartMicros + SettleMicros;

    public void AddPacket(long arrivalMicros, int size, double delayMs)
    {
        _bytes += size;
        _maxDelay = Math.Max(_maxDelay, delayMs);
        if (!Settled(arrivalMicros))
            return;
        _settledBytes += size;
        _settledDelays.Add(delayMs);
    }

    public void AddLoss() => _lost++;

    public void AddTarget(long nowMicros, long bps)
    {
        if (!Settled(nowMicros))
            return;
        _targetSum += bps;
        _targetSamples++;
    }

    public SendSidePhaseStats Stats(long capacityBps)
    {
        var d = _settledDelays.ToArray();
        Array.Sort(d);
        double p95 = d.Length == 0 ? 0 : d[(int)Math.Min(d.Length - 1, Math.Ceiling(0.95 * d.Length) - 1)];
        long settledSpan = Math.Max(1, EndMicros - StartMicros - SettleMicros);
        return new SendSidePhaseStats(StartMicros, EndMicros, capacityBps, _bytes * 8 * 1e6 / (EndMicros - StartMicros),
            _settledBytes * 8 * 1e6 / settledSpan, _targetSum / Math.Max(1, _targetSamples), p95, _maxDelay, _lost);
    }
}
