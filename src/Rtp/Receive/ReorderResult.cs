namespace Engine.Rtp.Receive;

/// <summary>What <see cref="RtpReorderBuffer.Insert"/> did with a packet.</summary>
public enum ReorderResult
{
    /// <summary>In order: process the caller's own bytes now (no copy), then drain TryPop.</summary>
    Deliver,
    /// <summary>Ahead of a gap: copied and held until the gap fills or the hold time runs out.</summary>
    Buffered,
    /// <summary>Already held.</summary>
    Duplicate,
    /// <summary>Behind what was already delivered (a NACK answer that came too late, or a replay).</summary>
    Late,
    /// <summary>Larger than a slot; dropped.</summary>
    TooLarge,
}
