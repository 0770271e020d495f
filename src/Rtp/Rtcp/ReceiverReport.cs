using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>Writes an RR (RFC 3550 §6.4.2) with up to 31 report blocks.</summary>
public ref struct ReceiverReport
{
    public uint SenderSsrc;
    public ReadOnlySpan<ReportBlock> ReportBlocks;

    public readonly int GetSerializedLength() => RtcpPacketView.HeaderLength + 4 + ReportBlocks.Length * ReportBlock.Length;

    /// <summary>Returns the bytes written, or 0 when the destination is too small or there are more than 31 blocks.</summary>
    public readonly int Write(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length || ReportBlocks.Length > 31)
            return 0;
        RtcpPacketView.WriteHeader(destination, ReportBlocks.Length, RtcpPacketType.ReceiverReport, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], SenderSsrc);
        for (int i = 0; i < ReportBlocks.Length; i++)
            ReportBlocks[i].Write(destination[(8 + i * ReportBlock.Length)..]);
        return length;
    }
}
