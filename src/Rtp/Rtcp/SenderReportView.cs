using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// SR (RFC 3550 §6.4.1): sender SSRC, 64-bit NTP timestamp, RTP timestamp, sender's packet and
/// octet counts, then RC report blocks (and possibly profile-specific extensions, ignored).
/// </summary>
public readonly ref struct SenderReportView
{
    public const int SenderInfoLength = 24;

    private readonly ReadOnlySpan<byte> _body;

    private SenderReportView(ReadOnlySpan<byte> body, int reportCount)
    {
        _body = body;
        ReportCount = reportCount;
    }

    public uint SenderSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body);
    public ulong NtpTimestamp => BinaryPrimitives.ReadUInt64BigEndian(_body[4..]);
    public uint RtpTimestamp => BinaryPrimitives.ReadUInt32BigEndian(_body[12..]);
    public uint PacketCount => BinaryPrimitives.ReadUInt32BigEndian(_body[16..]);
    public uint OctetCount => BinaryPrimitives.ReadUInt32BigEndian(_body[20..]);
    public int ReportCount { get; }

    public ReportBlock GetReportBlock(int index) => ReportBlock.Read(_body.Slice(SenderInfoLength + index * ReportBlock.Length, ReportBlock.Length));

    public static bool TryRead(RtcpPacketView packet, out SenderReportView view)
    {
        view = default;
        var body = packet.Body;
        if (packet.PacketType != RtcpPacketType.SenderReport || body.Length < SenderInfoLength + packet.Count * ReportBlock.Length)
            return false;
        view = new SenderReportView(body, packet.Count);
        return true;
    }
}
