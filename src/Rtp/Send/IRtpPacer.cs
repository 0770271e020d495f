namespace Engine.Rtp.Send;

/// <summary>
/// Where written packets wait before they leave. A packet is an opaque id the send stream
/// understands; the pacer only decides when. A congestion-controlled pacer replaces
/// <see cref="BurstPacer"/> behind this interface later.
/// </summary>
public interface IRtpPacer
{
    int QueuedPackets { get; }

    /// <summary>Queues a packet of <paramref name="size"/> bytes; false when the queue is full (the caller counts the drop).</summary>
    bool TryEnqueue(long packetId, int size, long nowMicros);

    /// <summary>The next packet allowed to leave at <paramref name="nowMicros"/>, in queue order.</summary>
    bool TryRelease(long nowMicros, out long packetId);

    /// <summary>When the next packet may leave (at or before now: immediately); long.MaxValue when the queue is empty.</summary>
    long NextReleaseMicros { get; }
}
