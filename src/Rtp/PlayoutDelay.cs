namespace Engine.Rtp;

/// <summary>
/// playout-delay header extension value (webrtc.org/experiments/rtp-hdrext/playout-delay):
/// 12-bit minimum and 12-bit maximum delay, in 10 ms units.
/// </summary>
public readonly struct PlayoutDelay
{
    public const int SerializedLength = 3;
    public const int MaxValue = 0xfff;

    public PlayoutDelay(int min10Ms, int max10Ms)
    {
        Min10Ms = (ushort)(min10Ms & MaxValue);
        Max10Ms = (ushort)(max10Ms & MaxValue);
    }

    public ushort Min10Ms { get; }
    public ushort Max10Ms { get; }
    public int MinMillis => Min10Ms * 10;
    public int MaxMillis => Max10Ms * 10;

    public static bool TryRead(ReadOnlySpan<byte> data, out PlayoutDelay value)
    {
        value = default;
        if (data.Length != SerializedLength)
            return false;
        value = new PlayoutDelay(data[0] << 4 | data[1] >> 4, (data[1] & 0x0f) << 8 | data[2]);
        return true;
    }

    public int Write(Span<byte> destination)
    {
        if (destination.Length < SerializedLength)
            return 0;
        destination[0] = (byte)(Min10Ms >> 4);
        destination[1] = (byte)((Min10Ms & 0x0f) << 4 | Max10Ms >> 8);
        destination[2] = (byte)Max10Ms;
        return SerializedLength;
    }
}
