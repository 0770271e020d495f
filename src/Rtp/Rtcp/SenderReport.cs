using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>Writes an SR (RFC 3550 §6.4.1) with up to 31 report blocks.</summary>
public ref struct SenderReport
{
    public uint SenderSsrc;
    public ulong NtpTimestamp;
    public uint RtpTimestamp;
    public uint PacketCount;
    public uint OctetCount;
    public ReadOnlySpan<ReportBlock> ReportBlocks;

    public readonly int GetSerializedLength() => RtcpPacketView.HeaderLength + SenderReportView.SenderInfoLength + ReportBlocks.Length * ReportBlock.Length;

    /// <summary>Returns the bytes written, or 0 when the destination is too small or there are more than 31 blocks.</summary>
    public readonly int Write(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length || ReportBlocks.Length > 31)
            return 0;
        RtcpPacketView.WriteHeader(destination, ReportBlocks.Length, RtcpPacketType.SenderReport, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], SenderSsrc);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], NtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], RtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], PacketCount);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], OctetCount);
        for (int i = 0; i < ReportBlocks.Length; i++)
            ReportBlocks[i].Write(destination[(28 + i * ReportBlock.Length)..]);
        return length;
    }
}
