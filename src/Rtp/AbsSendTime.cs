namespace Engine.Rtp;

/// <summary>
/// abs-send-time header extension value: 24-bit unsigned 6.18 fixed-point seconds, wrapping
/// every 64 s (webrtc.org/experiments/rtp-hdrext/abs-send-time).
/// </summary>
public readonly struct AbsSendTime
{
    public const int SerializedLength = 3;

    public AbsSendTime(uint value24) => Value = value24 & 0xffffff;

    /// <summary>The raw 24-bit 6.18 fixed-point value.</summary>
    public uint Value { get; }

    /// <summary>The value in microseconds modulo 64 s.</summary>
    public long Micros => ((long)Value * 1_000_000) >> 18;

    public static AbsSendTime FromMicros(long micros) => new((uint)(((micros % 64_000_000) << 18) / 1_000_000));

    public static bool TryRead(ReadOnlySpan<byte> data, out AbsSendTime value)
    {
        value = default;
        if (data.Length != SerializedLength)
            return false;
        value = new AbsSendTime((uint)(data[0] << 16 | data[1] << 8 | data[2]));
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if (destination.Length < SerializedLength)
            return 0;
        destination[0] = (byte)(Value >> 16);
        destination[1] = (byte)(Value >> 8);
        destination[2] = (byte)Value;
        return SerializedLength;
    }
}
