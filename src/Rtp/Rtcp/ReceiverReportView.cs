using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>RR (RFC 3550 §6.4.2): the reporter's SSRC, then RC report blocks.</summary>
public readonly ref struct ReceiverReportView
{
    private readonly ReadOnlySpan<byte> _body;

    private ReceiverReportView(ReadOnlySpan<byte> body, int reportCount)
    {
        _body = body;
        ReportCount = reportCount;
    }

    public uint SenderSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body);
    public int ReportCount { get; }

    public ReportBlock GetReportBlock(int index) => ReportBlock.Read(_body.Slice(4 + index * ReportBlock.Length, ReportBlock.Length));

    public static bool TryRead(RtcpPacketView packet, out ReceiverReportView view)
    {
        view = default;
        var body = packet.Body;
        if (packet.PacketType != RtcpPacketType.ReceiverReport || body.Length < 4 + packet.Count * ReportBlock.Length)
            return false;
        view = new ReceiverReportView(body, packet.Count);
        return true;
    }
}
