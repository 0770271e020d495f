namespace Engine.Gcc;

/// <summary>
/// Unwraps the abs-send-time header extension (24-bit, 6.18 fixed-point seconds, wraps every 64 s)
/// into a monotonic send time in microseconds. Consecutive values are assumed less than 32 s apart,
/// so a step back of up to 32 s is reordering, not a wrap.
/// </summary>
public struct AbsSendTime
{
    /// <summary>18 fractional bits: one tick is 1/262144 s.</summary>
    public const int TicksPerSecond = 1 << 18;

    /// <summary>The field is 24 bits.</summary>
    public const uint Mask = 0xFF_FFFF;

    private long _ticks;
    private uint _last;
    private bool _started;

    /// <summary>Send time in microseconds on an arbitrary origin (the first value seen).</summary>
    public long Unwrap(uint absSendTime24)
    {
        uint raw = absSendTime24 & Mask;
        if (!_started)
        {
            _started = true;
            _last = raw;
            _ticks = raw;
            return TicksToMicros(_ticks);
        }
        // Shift the 24-bit difference into the top of an int so its sign is the wrap-aware direction.
        int diff = (int)((raw - _last) << 8) >> 8;
        _last = raw;
        _ticks += diff;
        return TicksToMicros(_ticks);
    }

    public static long TicksToMicros(long ticks) => ticks * 15625 / 4096; // 1e6 / 2^18 = 15625 / 4096

    /// <summary>The 24-bit field for a send time in microseconds (what a sender writes).</summary>
    public static uint FromMicros(long micros) => (uint)(micros * 4096 / 15625) & Mask;
}
