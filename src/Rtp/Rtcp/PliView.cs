using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>Picture Loss Indication (RFC 4585 §6.3.1): PSFB FMT 1, no FCI.</summary>
public readonly ref struct PliView
{
    public const int Format = 1;

    private readonly ReadOnlySpan<byte> _body;

    private PliView(ReadOnlySpan<byte> body) => _body = body;

    public uint SenderSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body);
    public uint MediaSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body[4..]);

    public static bool TryRead(RtcpPacketView packet, out PliView view)
    {
        view = default;
        if (packet.PacketType != RtcpPacketType.PayloadSpecificFeedback || packet.Count != Format || packet.Body.Length < 8)
            return false;
        view = new PliView(packet.Body);
        return true;
    }
}
