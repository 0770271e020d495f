namespace Engine.Codec;

/// <summary>One raw AAC frame (no ADTS header) out of an FLV audio tag: a view into the caller's tag, valid for the call.</summary>
internal readonly ref struct FlvAudioFrame
{
    public FlvAudioFrame(long millis, ReadOnlySpan<byte> data)
    {
        Millis = millis;
        Data = data;
    }

    /// <summary>The tag's timestamp, unwrapped past 32 bits (AAC has no reordering: PTS = DTS).</summary>
    public long Millis { get; }
    public ReadOnlySpan<byte> Data { get; }
}
