using System.Runtime.InteropServices;
using System.Net.Sockets;
using Engine.Ice;

namespace Engine.Host.Transport;

/// <summary>
/// A fixed set of datagram slots in unmanaged memory for recvmmsg(2)/sendmmsg(2): one system call
/// moves up to <see cref="Capacity"/> datagrams. Each slot has its buffer, its sockaddr and its
/// mmsghdr; nothing is allocated after construction. Linux only (the engine's target).
/// </summary>
public sealed unsafe partial class UdpBatch : IDisposable
{
    private const int SockaddrSize = 32; // sockaddr_in6 is 28
    private const int MsgDontWait = 0x40;
    private const int EAGAIN = 11;
    private const int EINTR = 4;
    private const int SolSocket = 1, SoTimestampNs = 35; // SCM_TIMESTAMPNS == SO_TIMESTAMPNS (64-bit time_t)
    private const int ControlBytes = 64; // CMSG_SPACE(sizeof(timespec)) is 32

    private readonly byte* _arena;
    private readonly int _slotBytes;
    private readonly IoVec* _iov;
    private readonly MMsgHdr* _msgs;
    private readonly byte* _names;
    private readonly byte* _controls;
    private bool _timestamps;

    public UdpBatch(int capacity, int slotBytes)
    {
        Capacity = capacity;
        _slotBytes = slotBytes;
        nuint total = (nuint)(capacity * (slotBytes + SockaddrSize + ControlBytes + sizeof(IoVec) + sizeof(MMsgHdr)));
        _arena = (byte*)NativeMemory.AlignedAlloc(total, 64);
        NativeMemory.Clear(_arena, total);
        _msgs = (MMsgHdr*)_arena;
        _iov = (IoVec*)(_arena + capacity * sizeof(MMsgHdr));
        _names = (byte*)(_iov + capacity);
        _controls = _names + capacity * SockaddrSize;
        byte* data = _controls + capacity * ControlBytes;
        for (int i = 0; i < capacity; i++)
        {
            _iov[i].Base = data + i * slotBytes;
            _iov[i].Length = (nuint)slotBytes;
            _msgs[i].Header.Name = _names + i * SockaddrSize;
            _msgs[i].Header.Iov = _iov + i;
            _msgs[i].Header.IovLength = 1;
        }
    }

    public int Capacity { get; }

    /// <summary>Datagrams filled for sending, or received by the last <see cref="Receive"/>.</summary>
    public int Count { get; private set; }

    public Span<byte> Buffer(int slot) => new(_iov[slot].Base, _slotBytes);

    public Span<byte> Datagram(int slot) => new(_iov[slot].Base, (int)_msgs[slot].Length);

    /// <summary>
    /// Asks the kernel to stamp each datagram received on <paramref name="socket"/> (SO_TIMESTAMPNS):
    /// the time it reached the socket, not when a busy thread got round to reading it. False when
    /// the kernel refused; then <see cref="TryGetKernelTimestamp"/> finds nothing.
    /// </summary>
    public bool EnableTimestamps(SafeHandle socket)
    {
        int one = 1;
        _timestamps = SetSockOpt((int)socket.DangerousGetHandle(), SolSocket, SoTimestampNs, &one, sizeof(int)) == 0;
        return _timestamps;
    }

    /// <summary>The kernel's receive time of the slot's datagram (CLOCK_REALTIME, ns since the Unix epoch), when it gave one.</summary>
    public bool TryGetKernelTimestamp(int slot, out long unixNanos)
    {
        unixNanos = 0;
        ref var h = ref _msgs[slot].Header;
        if (!_timestamps || h.Control == null)
            return false;
        byte* c = (byte*)h.Control, end = c + Math.Min(h.ControlLength, (nuint)ControlBytes);
        // struct cmsghdr { size_t len; int level; int type; } then the data, each aligned to 8.
        while (c + 16 <= end)
        {
            nuint len = *(nuint*)c;
            if (len < 16 || c + len > end)
                return false;
            if (*(int*)(c + 8) == SolSocket && *(int*)(c + 12) == SoTimestampNs && len >= 32)
            {
                unixNanos = *(long*)(c + 16) * 1_000_000_000 + *(long*)(c + 24);
                return true;
            }
            c += (len + 7) & ~(nuint)7;
        }
        return false;
    }

    public bool TryGetSource(int slot, out NetAddress from) =>
        NetAddress.TryFromSockaddr(new ReadOnlySpan<byte>(_msgs[slot].Header.Name, (int)_msgs[slot].Header.NameLength), out from);

    /// <summary>
    /// Reads what is waiting, without blocking: the count (0 when nothing is), or -1 for an error
    /// other than "nothing waiting" (ICMP errors surface here on a UDP socket).
    /// </summary>
    public int Receive(SafeHandle socket)
    {
        Count = 0;
        for (int i = 0; i < Capacity; i++)
        {
            _msgs[i].Header.NameLength = SockaddrSize;
            _iov[i].Length = (nuint)_slotBytes;
            _msgs[i].Header.Flags = 0;
            _msgs[i].Header.Control = _timestamps ? _controls + i * ControlBytes : null;
            _msgs[i].Header.ControlLength = _timestamps ? (nuint)ControlBytes : 0;
        }
        int n;
        do
            n = RecvMMsg((int)socket.DangerousGetHandle(), _msgs, (uint)Capacity, MsgDontWait, null);
        while (n < 0 && Marshal.GetLastSystemError() == EINTR);
        if (n < 0)
            return Marshal.GetLastSystemError() == EAGAIN ? 0 : -1;
        Count = n;
        return n;
    }

    /// <summary>The next free slot's buffer, or an empty span when the batch is full.</summary>
    public Span<byte> NextBuffer => Count < Capacity ? Buffer(Count) : default;

    /// <summary>Commits the next slot: <paramref name="length"/> bytes already written into <see cref="NextBuffer"/>.</summary>
    public bool TryAdd(int length, in NetAddress to, bool ipv6Socket)
    {
        int nameLength = to.TryWriteSockaddr(new Span<byte>(_msgs[Count].Header.Name, SockaddrSize), ipv6Socket);
        if (nameLength == 0)
            return false;
        _msgs[Count].Header.NameLength = (uint)nameLength;
        _iov[Count].Length = (nuint)length;
        Count++;
        return true;
    }

    /// <summary>
    /// Sends every added datagram, without blocking, and empties the batch. Returns how many the
    /// kernel took; the rest (a full send buffer, an unreachable address) are dropped, as UDP would.
    /// </summary>
    public int Send(SafeHandle socket, out int errors)
    {
        errors = 0;
        int sent = 0, start = 0;
        int fd = (int)socket.DangerousGetHandle();
        // sendmmsg stops at the first datagram that fails: skip that one and go on (bounded by Count).
        while (start < Count)
        {
            int n = SendMMsg(fd, _msgs + start, (uint)(Count - start), MsgDontWait);
            if (n < 0)
            {
                if (Marshal.GetLastSystemError() == EINTR)
                    continue;
                errors++;
                start++;
                continue;
            }
            sent += n;
            start += n;
            if (n == 0)
            {
                errors++;
                start++;
            }
        }
        Count = 0;
        return sent;
    }

    public void Dispose() => NativeMemory.AlignedFree(_arena);

    /// <summary>
    /// Waits up to <paramref name="timeoutMicros"/> for the socket to become readable (ppoll(2), so
    /// the wait has microsecond resolution and allocates nothing): true when it is.
    /// </summary>
    public static bool WaitReadable(SafeHandle socket, long timeoutMicros)
    {
        var fd = new PollFd { Fd = (int)socket.DangerousGetHandle(), Events = PollIn };
        var timeout = new TimeSpec { Seconds = timeoutMicros / 1_000_000, Nanoseconds = timeoutMicros % 1_000_000 * 1000 };
        int n = PPoll(&fd, 1, &timeout, null);
        return n > 0 && (fd.Revents & (PollIn | PollErr)) != 0; // an error (ICMP) is read, and counted, by recvmmsg
    }

    /// <summary>
    /// As <see cref="WaitReadable(SafeHandle, long)"/>, and also wakes when <paramref name="wakeFd"/>
    /// (an eventfd) is signalled: bit 0 set when the socket is readable, bit 1 when the eventfd is
    /// (the caller then drains it), 0 on the timeout.
    /// </summary>
    public static int WaitReadable(SafeHandle socket, int wakeFd, long timeoutMicros)
    {
        var fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = (int)socket.DangerousGetHandle(), Events = PollIn };
        fds[1] = new PollFd { Fd = wakeFd, Events = PollIn };
        var timeout = new TimeSpec { Seconds = timeoutMicros / 1_000_000, Nanoseconds = timeoutMicros % 1_000_000 * 1000 };
        if (PPoll(fds, 2, &timeout, null) <= 0)
            return 0;
        return ((fds[0].Revents & (PollIn | PollErr)) != 0 ? 1 : 0) | ((fds[1].Revents & PollIn) != 0 ? 2 : 0);
    }

    private const short PollIn = 0x1;
    private const short PollErr = 0x8;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc.so.6", EntryPoint = "ppoll")]
    private static partial int PPoll(PollFd* fds, nuint count, TimeSpec* timeout, void* sigmask);

    public static bool IsIPv6(Socket socket) => socket.AddressFamily == AddressFamily.InterNetworkV6;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [LibraryImport("libc.so.6", EntryPoint = "recvmmsg", SetLastError = true)]
    private static partial int RecvMMsg(int fd, MMsgHdr* msgs, uint count, int flags, void* timeout);

    [LibraryImport("libc.so.6", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc.so.6", EntryPoint = "sendmmsg", SetLastError = true)]
    private static partial int SendMMsg(int fd, MMsgHdr* msgs, uint count, int flags);
}
