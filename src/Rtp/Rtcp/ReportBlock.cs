using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// A reception report block (RFC 3550 §6.4.1), 24 bytes: SSRC, fraction lost, 24-bit signed
/// cumulative lost, extended highest sequence number, jitter, LSR, DLSR.
/// </summary>
public readonly struct ReportBlock
{
    public const int Length = 24;

    public ReportBlock(uint ssrc, byte fractionLost, int cumulativeLost, uint extendedHighestSequenceNumber, uint jitter, uint lastSenderReport, uint delaySinceLastSenderReport)
    {
        Ssrc = ssrc;
        FractionLost = fractionLost;
        CumulativeLost = Math.Clamp(cumulativeLost, -0x800000, 0x7fffff);
        ExtendedHighestSequenceNumber = extendedHighestSequenceNumber;
        Jitter = jitter;
        LastSenderReport = lastSenderReport;
        DelaySinceLastSenderReport = delaySinceLastSenderReport;
    }

    public uint Ssrc { get; }
    /// <summary>Fraction of packets lost since the last report, in 1/256 units.</summary>
    public byte FractionLost { get; }
    /// <summary>Cumulative number of packets lost; 24-bit signed on the wire (duplicates can make it negative).</summary>
    public int CumulativeLost { get; }
    public uint ExtendedHighestSequenceNumber { get; }
    /// <summary>Interarrival jitter in RTP timestamp units.</summary>
    public uint Jitter { get; }
    /// <summary>LSR: the middle 32 bits of the last SR's NTP timestamp.</summary>
    public uint LastSenderReport { get; }
    /// <summary>DLSR in 1/65536 seconds.</summary>
    public uint DelaySinceLastSenderReport { get; }

    /// <summary>Reads a block from at least <see cref="Length"/> bytes.</summary>
    public static ReportBlock Read(ReadOnlySpan<byte> data)
    {
        int lost = data[5] << 16 | data[6] << 8 | data[7];
        if ((lost & 0x800000) != 0)
            lost |= unchecked((int)0xff000000);
        return new ReportBlock(
            BinaryPrimitives.ReadUInt32BigEndian(data),
            data[4],
            lost,
            BinaryPrimitives.ReadUInt32BigEndian(data[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(data[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(data[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(data[20..]));
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Ssrc);
        destination[4] = FractionLost;
        destination[5] = (byte)(CumulativeLost >> 16);
        destination[6] = (byte)(CumulativeLost >> 8);
        destination[7] = (byte)CumulativeLost;
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], ExtendedHighestSequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], Jitter);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], LastSenderReport);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], DelaySinceLastSenderReport);
    }
}
