using System.Runtime.InteropServices;

namespace Engine.Host.Turn;

/// <summary>The few Linux calls the TURN loop needs beyond <see cref="Transport.UdpBatch"/>: epoll and sendto (its wake is a <see cref="Transport.WakeSignal"/>).</summary>
internal static unsafe partial class TurnNative
{
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const uint EpollIn = 0x1;
    public const uint EpollErr = 0x8;
    public const int EpollCloexec = 0x80000;
    public const int MsgDontWait = 0x40;
    public const int EINTR = 4;

    // x86-64 packs struct epoll_event: 4 bytes of events, 8 of data.
    [StructLayout(LayoutKind.Explicit, Size = 12)]
    public struct EpollEvent
    {
        [FieldOffset(0)] public uint Events;
        [FieldOffset(4)] public ulong Data;
    }

    [LibraryImport("libc.so.6", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc.so.6", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport("libc.so.6", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeoutMillis);

    [LibraryImport("libc.so.6", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc.so.6", EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendTo(int fd, byte* buffer, nuint length, int flags, byte* address, uint addressLength);
}
