namespace Engine.Gcc.Tests;

/// <summary>
/// One flow's figures for one phase. Settled figures leave out the phase's first
/// <see cref="PhaseAccumulator.SettleMicros"/> (the goals are "after 5 s of settling").
/// </summary>
public readonly record struct SendSidePhaseStats(long StartMicros, long EndMicros, long CapacityBps, double ThroughputBps,
    double SettledThroughputBps, double SettledMeanTargetBps, double SettledP95QueueDelayMs, double MaxQueueDelayMs,
    long Lost)
{
    public double SettledRatio => SettledThroughputBps / CapacityBps;
}
