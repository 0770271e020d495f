using System.Diagnostics;

namespace Engine.Host.Output;

/// <summary>The monotonic clock the outputs, their workers and the RTMP pump read (Codec reads none).</summary>
public static class OutputClock
{
    public static long NowMillis() => ToMillis(Stopwatch.GetTimestamp(), Stopwatch.Frequency);

    // Not ticks * 1000 / frequency in 64 bits: with nanosecond ticks that overflows after 106 days of uptime.
    public static long ToMillis(long ticks, long frequency) => (long)((Int128)ticks * 1000 / frequency);
}
