using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>One DLRR sub-block (RFC 3611 §4.5): SSRC, LRR (middle 32 bits of the RRTR NTP time), DLRR in 1/65536 s.</summary>
public readonly struct DlrrSubBlock
{
    public const int Length = 12;

    public DlrrSubBlock(uint ssrc, uint lastReceiverReport, uint delaySinceLastReceiverReport)
    {
        Ssrc = ssrc;
        LastReceiverReport = lastReceiverReport;
        DelaySinceLastReceiverReport = delaySinceLastReceiverReport;
    }

    public uint Ssrc { get; }
    public uint LastReceiverReport { get; }
    public uint DelaySinceLastReceiverReport { get; }

    public static DlrrSubBlock Read(ReadOnlySpan<byte> data) => new(
        BinaryPrimitives.ReadUInt32BigEndian(data),
        BinaryPrimitives.ReadUInt32BigEndian(data[4..]),
        BinaryPrimitives.ReadUInt32BigEndian(data[8..]));

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], LastReceiverReport);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], DelaySinceLastReceiverReport);
    }
}
