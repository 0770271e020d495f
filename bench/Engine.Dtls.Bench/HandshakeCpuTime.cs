using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Engine.Dtls.Bench;

/// <summary>
/// Runs the two handshake benchmarks in a plain loop and prints CPU time and allocated bytes per
/// handshake. Process CPU counts every thread (GC included); handshake-threads CPU counts only the
/// threads running the handshake: ours runs both endpoints on the calling thread, BouncyCastle runs
/// its client on the calling thread and its server on a pool thread (measured inside Accept).
/// </summary>
public static partial class HandshakeCpuTime
{
    private const int WarmUpMillis = 3000;

    public static void Run()
    {
        var bench = new HandshakeBenchmarks();
        bench.Setup();
        Measure("Engine.Dtls server+client", 500, () => bench.Ours());
        Measure("Engine.Dtls server+client, RSA-2048 both sides", 200, () => bench.OursRsa2048());
        Measure("BouncyCastle 1.8.10 server+client", 100, () => bench.BouncyCastle());
    }

    private static void Measure(string name, int count, Func<int> handshake)
    {
        // Warm up for a count and a time, so both sides are measured on tier-1 code. With only count/5
        // handshakes, BouncyCastle (all managed) still ran much of its EC math at tier 0: 7530 us of
        // handshake CPU, against 1918 us with DOTNET_TieredCompilation=0 (same warm-up, same machine).
        var warmUp = Stopwatch.StartNew();
        for (int i = 0; i < count / 5 || warmUp.ElapsedMilliseconds < WarmUpMillis; i++) handshake();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        TimeSpan cpuBefore = process.TotalProcessorTime;
        long threadBefore = ThreadCpuNanos();
        long serverThreadBefore = Interlocked.Read(ref HandshakeBenchmarks.ServerThreadCpuNanos);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var wall = Stopwatch.StartNew();
        for (int i = 0; i < count; i++) handshake();
        wall.Stop();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        double threadMicros = (ThreadCpuNanos() - threadBefore) / 1000.0 / count;
        double serverThreadMicros = (Interlocked.Read(ref HandshakeBenchmarks.ServerThreadCpuNanos) - serverThreadBefore) / 1000.0 / count;
        process.Refresh();
        double cpuMicros = (process.TotalProcessorTime - cpuBefore).TotalMicroseconds / count;
        Console.WriteLine($"{name}: {count} handshakes, process CPU {cpuMicros:F0} us/handshake ({1e6 / cpuMicros:F0} handshakes per CPU-second), " +
            $"handshake-threads CPU {threadMicros + serverThreadMicros:F0} us/handshake, wall {wall.Elapsed.TotalMicroseconds / count:F0} us/handshake, allocated {allocated / count} B/handshake");
    }

    public static long ThreadCpuNanos()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        clock_gettime(3 /* CLOCK_THREAD_CPUTIME_ID */, out TimeSpec t);
        return t.Seconds * 1_000_000_000 + t.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc")]
    private static partial int clock_gettime(int clockId, out TimeSpec time);
}
