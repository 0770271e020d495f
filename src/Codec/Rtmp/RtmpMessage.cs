namespace Engine.Codec.Rtmp;

/// <summary>One whole RTMP message from <see cref="RtmpChunkReader"/>; the payload is valid until the next read.</summary>
internal readonly ref struct RtmpMessage(byte type, uint streamId, uint timestamp, ReadOnlySpan<byte> payload)
{
    public byte Type { get; } = type;
    public uint StreamId { get; } = streamId;
    /// <summary>Milliseconds, from the fmt 0 time plus the deltas since (wraps at 2^32).</summary>
    public uint Timestamp { get; } = timestamp;
    public ReadOnlySpan<byte> Payload { get; } = payload;
}
