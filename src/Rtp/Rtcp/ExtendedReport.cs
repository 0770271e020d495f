using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>Writes an RTCP XR (RFC 3611) with an optional RRTR block (§4.4) and an optional DLRR block (§4.5).</summary>
public ref struct ExtendedReport
{
    public uint SenderSsrc;
    public bool HasRrtr;
    public ulong RrtrNtpTimestamp;
    public ReadOnlySpan<DlrrSubBlock> Dlrr;

    public readonly int GetSerializedLength() =>
        8 + (HasRrtr ? 12 : 0) + (Dlrr.IsEmpty ? 0 : 4 + Dlrr.Length * DlrrSubBlock.Length);

    public readonly int Write(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length || Dlrr.Length > 0xffff / 3)
            return 0;
        RtcpPacketView.WriteHeader(destination, 0, RtcpPacketType.ExtendedReport, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], SenderSsrc);
        int offset = 8;
        if (HasRrtr)
        {
            destination[offset] = ExtendedReportView.RrtrBlockType;
            destination[offset + 1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], 2);
            BinaryPrimitives.WriteUInt64BigEndian(destination[(offset + 4)..], RrtrNtpTimestamp);
            offset += 12;
        }
        if (!Dlrr.IsEmpty)
        {
            destination[offset] = ExtendedReportView.DlrrBlockType;
            destination[offset + 1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], (ushort)(3 * Dlrr.Length));
            offset += 4;
            foreach (var sub in Dlrr)
            {
                sub.Write(destination[offset..]);
                offset += DlrrSubBlock.Length;
            }
        }
        return offset;
    }
}
