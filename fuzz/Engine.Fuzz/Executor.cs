using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Engine.Fuzz.Runtime;

namespace Engine.Fuzz;

/// <summary>
/// Runs one input under the three crash rules. The input is copied so it ends exactly at a
/// PROT_NONE guard page: a read past its end faults (the runtime dies on it and the supervisor
/// reports the input). Before each run the input is also written to a shared file mapping, so
/// whatever kills the process (stack overflow, access violation, the hang watchdog) leaves the
/// culprit behind. A watchdog thread ends the process when one input uses more than the limit of
/// CPU time, or ten times the limit of wall time (a run blocked without spinning). CPU, not wall
/// time: on a loaded machine a starved run took over 1 s of wall time in 13 ms of CPU, a false hang.
/// </summary>
public sealed unsafe class Executor : IDisposable
{
    public const int HangExitCode = 11;
    public const long MaxAllocationPerRun = 256L * 1024 * 1024;

    private readonly FuzzTarget _target;
    private readonly byte* _region;
    private readonly byte* _guard;
    private readonly MemoryMappedFile? _currentFile;
    private readonly MemoryMappedViewAccessor? _currentView;
    private readonly byte* _current;
    private readonly int _capacity;
    private readonly long _timeoutTicks, _timeoutNanos;
    private int _workerClock = -1; // the running thread's CPU-time clock (clockid_t), set on its first run
    private long _observedStart, _cpuAtObserve; // watchdog thread only
    private long _startedAt; // Stopwatch ticks of the running input, 0 when idle
    private readonly Thread _watchdog;
    private volatile bool _disposed;
    private Action<byte[]>? _onHang;

    public long Execs { get; private set; }

    public Executor(FuzzTarget target, int capacity, string? currentPath, int timeoutMs)
    {
        _target = target;
        _capacity = capacity;
        _timeoutTicks = Stopwatch.Frequency * timeoutMs / 1000;
        _timeoutNanos = timeoutMs * 1_000_000L;
        nuint page = (nuint)Environment.SystemPageSize;
        nuint dataPages = ((nuint)capacity + page - 1) / page;
        if (dataPages == 0) dataPages = 1;
        nuint regionSize = (dataPages + 1) * page;
        _region = (byte*)Libc.mmap(null, regionSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        if (_region == (byte*)-1)
            throw new InvalidOperationException("mmap failed: " + Marshal.GetLastPInvokeError());
        _guard = _region + dataPages * page;
        if (Libc.mprotect(_guard, page, Libc.PROT_NONE) != 0)
            throw new InvalidOperationException("mprotect failed: " + Marshal.GetLastPInvokeError());

        if (currentPath != null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(currentPath)!);
            _currentFile = MemoryMappedFile.CreateFromFile(currentPath, FileMode.Create, null, 4 + capacity, MemoryMappedFileAccess.ReadWrite);
            _currentView = _currentFile.CreateViewAccessor(0, 4 + capacity);
            byte* p = null;
            _currentView.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _current = p;
        }
        _watchdog = new Thread(Watch) { IsBackground = true, Name = "fuzz-watchdog" };
        _watchdog.Start();
    }

    /// <summary>Called on the watchdog thread with the hanging input, just before the process exits.</summary>
    public void OnHang(Action<byte[]> report) => _onHang = report;

    /// <summary>Runs the input; null when it returned (with its result), the exception when it threw.</summary>
    public Exception? Run(ReadOnlySpan<byte> input, out bool accepted)
    {
        if (input.Length > _capacity)
            input = input[.._capacity];
        if (_current != null)
        {
            *(int*)_current = -1; // torn-write marker while copying
            input.CopyTo(new Span<byte>(_current + 4, _capacity));
            *(int*)_current = input.Length;
        }
        byte* start = _guard - input.Length;
        var data = new Span<byte>(start, input.Length);
        input.CopyTo(data);
        Coverage.Prev = 0;
        if (Volatile.Read(ref _workerClock) < 0 && Libc.pthread_getcpuclockid(Libc.pthread_self(), out int clock) == 0)
            Volatile.Write(ref _workerClock, clock);
        Execs++;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        Volatile.Write(ref _startedAt, Stopwatch.GetTimestamp());
        try
        {
            accepted = _target.Run(data);
            // libFuzzer's -malloc_limit_mb: one datagram must not make the engine allocate this much.
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            return allocated > MaxAllocationPerRun
                ? new ResourceLimitException($"one run allocated {allocated / (1024 * 1024)} MiB (limit {MaxAllocationPerRun / (1024 * 1024)} MiB)")
                : null;
        }
        catch (Exception ex)
        {
            accepted = false;
            return ex;
        }
        finally
        {
            Volatile.Write(ref _startedAt, 0);
        }
    }

    private void Watch()
    {
        int parent = Libc.getppid();
        while (!_disposed)
        {
            Thread.Sleep(50);
            if (Libc.getppid() != parent)
                Libc._exit(12); // the supervisor is gone (killed, Ctrl-C): do not fuzz on as an orphan
            long started = Volatile.Read(ref _startedAt);
            if (started == 0)
                continue;
            long cpu = WorkerCpuNanos();
            if (started != _observedStart)
            {
                // First sight of this run (at most 50 ms into it): CPU is counted from here.
                _observedStart = started;
                _cpuAtObserve = cpu;
                continue;
            }
            long wall = Stopwatch.GetTimestamp() - started;
            bool spinning = cpu >= 0 && wall >= _timeoutTicks && cpu - _cpuAtObserve >= _timeoutNanos;
            bool blocked = wall >= 10 * _timeoutTicks || (cpu < 0 && wall >= _timeoutTicks);
            if (!spinning && !blocked)
                continue;
            // The worker is stuck inside the target and a managed thread cannot be aborted: report and leave.
            byte[] input = CurrentInput() ?? [];
            try
            {
                _onHang?.Invoke(input);
            }
            finally
            {
                Console.Out.Flush();
                Libc._exit(HangExitCode);
            }
        }
    }

    /// <summary>CPU time of the thread running inputs, in ns; -1 when unknown (then wall time decides).</summary>
    private long WorkerCpuNanos()
    {
        int clock = Volatile.Read(ref _workerClock);
        if (clock < 0)
            return -1;
        Libc.Timespec ts;
        return Libc.clock_gettime(clock, &ts) == 0 ? ts.Seconds * 1_000_000_000 + ts.Nanoseconds : -1;
    }

    private byte[]? CurrentInput()
    {
        if (_current == null) return null;
        int len = *(int*)_current;
        return len < 0 || len > _capacity ? null : new Span<byte>(_current + 4, len).ToArray();
    }

    /// <summary>The input a dead worker was running, from its shared file (null if none or torn).</summary>
    public static byte[]? ReadCurrentFile(string path)
    {
        if (!File.Exists(path)) return null;
        byte[] all = File.ReadAllBytes(path);
        if (all.Length < 4) return null;
        int len = BitConverter.ToInt32(all, 0);
        return len < 0 || len > all.Length - 4 ? null : all.AsSpan(4, len).ToArray();
    }

    public void Dispose()
    {
        _disposed = true;
        _currentView?.SafeMemoryMappedViewHandle.ReleasePointer();
        _currentView?.Dispose();
        _currentFile?.Dispose();
        // The guard region is left mapped: a still-running watchdog never touches it, and the process ends soon.
    }
}

/// <summary>A run broke a resource limit without throwing (too much memory for one input).</summary>
public sealed class ResourceLimitException(string message) : Exception(message);

internal static unsafe partial class Libc
{
    public const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    public const int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;

    [LibraryImport("libc", SetLastError = true)]
    public static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int mprotect(void* addr, nuint len, int prot);

    [LibraryImport("libc")]
    public static partial void _exit(int status);

    [LibraryImport("libc")]
    public static partial int getppid();

    public struct Timespec
    {
        public long Seconds, Nanoseconds;
    }

    [LibraryImport("libc")]
    public static partial nuint pthread_self();

    [LibraryImport("libc")]
    public static partial int pthread_getcpuclockid(nuint thread, out int clock);

    [LibraryImport("libc")]
    public static partial int clock_gettime(int clock, Timespec* ts);
}
