using Microsoft.Win32.SafeHandles;

namespace Engine.Host.Metrics;

/// <summary>
/// The process: CPU, memory, threads and start time under the names every Prometheus client uses
/// (<c>process_*</c>), and the .NET GC under <c>engine_gc_*</c>. Linux figures come from /proc/self.
/// </summary>
public sealed class ProcessMetrics : IMetricsSource
{
    private static readonly string[] Generations = ["0", "1", "2"];
    private readonly double _startTimeSeconds;

    public ProcessMetrics()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        _startTimeSeconds = new DateTimeOffset(self.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
    }

    public void Write(MetricsWriter w)
    {
        var cpu = Environment.CpuUsage;
        w.Counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds", cpu.TotalTime.TotalSeconds);
        w.Family("process_cpu_mode_seconds_total", "CPU time spent, in seconds, by mode", MetricType.Counter);
        w.Sample("process_cpu_mode_seconds_total", "mode", "user", cpu.UserTime.TotalSeconds);
        w.Sample("process_cpu_mode_seconds_total", "mode", "system", cpu.PrivilegedTime.TotalSeconds);
        if (TryReadStatm(out long virtualBytes, out long residentBytes))
        {
            w.Gauge("process_resident_memory_bytes", "Resident set size, in bytes", residentBytes);
            w.Gauge("process_virtual_memory_bytes", "Virtual memory size, in bytes", virtualBytes);
        }
        if (TryReadThreads(out long threads))
            w.Gauge("process_threads", "OS threads in the process", threads);
        w.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds", _startTimeSeconds);

        w.Family("engine_gc_collections_total", "Garbage collections, by generation (a generation's count includes the higher ones' collections)", MetricType.Counter);
        for (int g = 0; g <= Math.Min(GC.MaxGeneration, Generations.Length - 1); g++)
            w.Sample("engine_gc_collections_total", "generation", Generations[g], GC.CollectionCount(g));
        w.Counter("engine_gc_allocated_bytes_total", "Bytes allocated on the managed heap since start", GC.GetTotalAllocatedBytes(precise: false));
        w.Gauge("engine_gc_heap_bytes", "Bytes the managed heap holds (live and not yet collected)", GC.GetTotalMemory(forceFullCollection: false));
        w.Counter("engine_gc_pause_seconds_total", "Time the runtime was paused for garbage collection, in seconds", GC.GetTotalPauseDuration().TotalSeconds);
        w.Gauge("engine_threadpool_threads", ".NET thread-pool threads", ThreadPool.ThreadCount);
    }

    /// <summary>/proc/self/statm: "size resident shared text lib data dt", in pages.</summary>
    private static bool TryReadStatm(out long virtualBytes, out long residentBytes)
    {
        virtualBytes = residentBytes = 0;
        Span<byte> buffer = stackalloc byte[256];
        int n = ReadProc("/proc/self/statm", buffer);
        if (n <= 0)
            return false;
        var text = buffer[..n];
        if (!TryField(text, 0, out long size) || !TryField(text, 1, out long resident))
            return false;
        long page = Environment.SystemPageSize;
        virtualBytes = size * page;
        residentBytes = resident * page;
        return true;
    }

    /// <summary>/proc/self/stat: num_threads is field 20 (proc(5)), the 18th after the ")" that closes comm.</summary>
    private static bool TryReadThreads(out long threads)
    {
        threads = 0;
        Span<byte> buffer = stackalloc byte[1024];
        int n = ReadProc("/proc/self/stat", buffer);
        if (n <= 0)
            return false;
        var text = buffer[..n];
        int close = text.LastIndexOf((byte)')');
        return close >= 0 && close + 2 < text.Length && TryField(text[(close + 2)..], 17, out threads);
    }

    private static int ReadProc(string path, Span<byte> buffer)
    {
        try
        {
            using SafeFileHandle h = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            return RandomAccess.Read(h, buffer, 0);
        }
        catch (IOException)
        {
            return -1;
        }
        catch (UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>The index-th space-separated decimal field.</summary>
    private static bool TryField(ReadOnlySpan<byte> text, int index, out long value)
    {
        value = 0;
        for (int f = 0; f < index; f++)
        {
            int space = text.IndexOf((byte)' ');
            if (space < 0)
                return false;
            text = text[(space + 1)..];
        }
        int end = text.IndexOfAny((byte)' ', (byte)'\n');
        if (end >= 0)
            text = text[..end];
        return System.Buffers.Text.Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;
    }
}
