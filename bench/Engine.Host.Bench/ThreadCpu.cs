using System.Runtime.InteropServices;

namespace Engine.Host.Bench;

/// <summary>
/// The calling thread's CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID)): on a machine others load,
/// BenchmarkDotNet's wall clock also counts the time this thread waited for a core (a syscall is
/// a point where it is preempted), and sendmmsg_floor reports CPU too. Allocates nothing.
/// </summary>
internal static unsafe partial class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc.so.6", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, TimeSpec* ts);

    public static long Nanos()
    {
        TimeSpec ts;
        ClockGetTime(ClockThreadCpuTimeId, &ts);
        return ts.Seconds * 1_000_000_000 + ts.Nanoseconds;
    }
}
