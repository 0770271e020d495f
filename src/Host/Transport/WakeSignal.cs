using System.Runtime.InteropServices;

namespace Engine.Host.Transport;

/// <summary>
/// An eventfd a loop polls beside its socket, so work queued from other threads wakes it at once
/// instead of the loop waking on a short tick to look (an idle tick cost 1.3 % of a core).
/// <see cref="Sleeping"/>/<see cref="Awake"/> bracket the wait so a producer writes only when the
/// loop may be asleep: the loop re-checks its queue after <see cref="Sleeping"/>, and a producer
/// enqueues before <see cref="Signal"/>, so no wake is lost.
/// </summary>
internal sealed unsafe partial class WakeSignal : IDisposable
{
    private const int EfdNonBlock = 0x800, EfdCloexec = 0x80000;
    private readonly object _closeLock = new();
    private int _fd;
    private int _sleeping;

    public WakeSignal()
    {
        _fd = EventFd(0, EfdNonBlock | EfdCloexec);
        if (_fd < 0)
            throw new InvalidOperationException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public int Fd => _fd;

    /// <summary>Loop thread, before its queue's last check and the wait.</summary>
    public void Sleeping() => Interlocked.Exchange(ref _sleeping, 1); // a full fence: the queue check after it must not move before it

    /// <summary>Loop thread, after the wait.</summary>
    public void Awake() => Volatile.Write(ref _sleeping, 0);

    /// <summary>Loop thread, when the wait said the eventfd is readable. A producer's write that
    /// lands after the loop woke for its socket leaves it readable, so the next wait drains it.</summary>
    public void Drain()
    {
        long value;
        Read(_fd, &value, 8);
    }

    /// <summary>Any thread, after it enqueued: wakes the loop if it may be waiting.</summary>
    public void Signal()
    {
        // A full fence, not a plain read: the queue's publishing store must be visible before we look.
        if (Interlocked.Exchange(ref _sleeping, 0) == 0)
            return;
        lock (_closeLock) // never write to a closed (and perhaps reused) descriptor number
        {
            if (_fd < 0)
                return;
            long one = 1;
            Write(_fd, &one, 8);
        }
    }

    public void Dispose()
    {
        lock (_closeLock)
        {
            if (_fd >= 0)
                Close(_fd);
            _fd = -1;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initval, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "read")]
    private static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc.so.6", EntryPoint = "write")]
    private static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport("libc.so.6", EntryPoint = "close")]
    private static partial int Close(int fd);
}
