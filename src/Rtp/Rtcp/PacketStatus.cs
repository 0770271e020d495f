namespace Engine.Rtp.Rtcp;

/// <summary>One packet reported by a transport-wide CC feedback: its transport sequence number, status and arrival.</summary>
public readonly struct PacketStatus
{
    public PacketStatus(ushort sequenceNumber, PacketStatusSymbol symbol, int deltaTicks, long arrivalMicros)
    {
        SequenceNumber = sequenceNumber;
        Symbol = symbol;
        DeltaTicks = deltaTicks;
        ArrivalMicros = arrivalMicros;
    }

    public ushort SequenceNumber { get; }
    public PacketStatusSymbol Symbol { get; }
    public bool IsReceived => Symbol != PacketStatusSymbol.NotReceived;
    public bool HasDelta => Symbol is PacketStatusSymbol.ReceivedSmallDelta or PacketStatusSymbol.ReceivedLargeDelta;

    /// <summary>The recv delta in 250 µs ticks (0 when the symbol carries none).</summary>
    public int DeltaTicks { get; }

    /// <summary>
    /// Arrival time in the feedback sender's clock: reference time × 64 ms plus the recv deltas
    /// so far. Meaningful only when <see cref="HasDelta"/>.
    /// </summary>
    public long ArrivalMicros { get; }
}
