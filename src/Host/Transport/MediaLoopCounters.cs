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
}
