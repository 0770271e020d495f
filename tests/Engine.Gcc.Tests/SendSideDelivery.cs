namespace Engine.Gcc.Tests;

/// <summary>A packet in flight: media to the receiving end, or a feedback packet's bytes back to the sender.</summary>
public readonly record struct SendSideDelivery(SendSideFlow Flow, bool IsFeedback, long ArrivalMicros, long SendMicros, long Sequence, int Size, bool Padding, byte[]? Feedback);
