namespace Engine.Rtp.Send;

/// <summary>One sent packet matched against transport-cc feedback: what a congestion controller needs.</summary>
public readonly struct SentPacketResult
{
    public SentPacketResult(long transportSequenceNumber, long sendMicros, int size, bool received, long arrivalMicros)
    {
        TransportSequenceNumber = transportSequenceNumber;
        SendMicros = sendMicros;
        Size = size;
        Received = received;
        ArrivalMicros = arrivalMicros;
    }

    /// <summary>Unwrapped transport-wide sequence number.</summary>
    public long TransportSequenceNumber { get; }
    public long SendMicros { get; }
    /// <summary>Bytes on the wire as given to <see cref="SendHistory.Record"/>.</summary>
    public int Size { get; }
    public bool Received { get; }
    /// <summary>Arrival in the receiver's clock (only differences mean anything); -1 when lost or reported without a delta.</summary>
    public long ArrivalMicros { get; }
}
