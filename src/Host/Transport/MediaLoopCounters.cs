namespace Engine.Host.Transport;

/// <summary>What the media loop did and dropped, by reason. Written by the loop thread only.</summary>
public sealed class MediaLoopCounters
{
    public long DatagramsReceived;
    public long DatagramsSent;
    public long DroppedUnknownUfrag;
    public long DroppedUnknownAddress;
    public long DroppedUnknownKind;
    public long DroppedBadAddress;
    public long ReceiveErrors;
    public long SendErrors;
    public long SessionFaults;
    /// <summary>recvmmsg/sendmmsg calls: with the datagram counts, the syscalls per datagram.</summary>
    public long ReceiveCalls;
    public long SendCalls;
    /// <summary>Datagrams whose arrival time is the kernel's receive stamp, and stamps refused (a realtime clock step).</summary>
    public long KernelTimestamps;
    public long KernelTimestampsRejected;
    /// <summary>Returns from the wait, and those an eventfd signal (a command from another thread) caused: an idle loop sleeps.</summary>
    public long Wakeups;
    public long WakeSignals;

    /// <summary>Datagrams and their bytes, indexed by <see cref="DatagramKind"/> (RFC 7983): what arrived, and what was handed to sendmmsg.</summary>
    public readonly long[] ReceivedByKind = new long[KindCount], ReceivedBytesByKind = new long[KindCount];
    public readonly long[] SentByKind = new long[KindCount], SentBytesByKind = new long[KindCount];

    public const int KindCount = (int)DatagramKind.Rtcp + 1;

    internal void CountReceived(DatagramKind kind, int bytes)
    {
        ReceivedByKind[(int)kind]++;
        ReceivedBytesByKind[(int)kind] += bytes;
    }

    internal void CountSent(DatagramKind kind, int bytes)
    {
        SentByKind[(int)kind]++;
        SentBytesByKind[(int)kind] += bytes;
    }
}
