namespace Engine.Gcc.Tests;

/// <summary>One 100 ms sample of a send-side flow (for the plots).</summary>
public readonly record struct SendSideSample(double Seconds, long TargetBps, long CapacityBps, double ReceivedBps, double MaxQueueDelayMs, double MeanQueueDelayMs);
