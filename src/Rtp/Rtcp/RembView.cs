using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// Receiver Estimated Max Bitrate (draft-alvestrand-rmcat-remb-03 §2.2): PSFB FMT 15, FCI is
/// "REMB", Num SSRC (8 bits), BR Exp (6), BR Mantissa (18), then the SSRCs it applies to.
/// </summary>
public readonly ref struct RembView
{
    public const int Format = 15;
    internal const uint Identifier = 0x52454D42; // "REMB"

    private readonly ReadOnlySpan<byte> _body;

    private RembView(ReadOnlySpan<byte> body, ulong bitrateBps)
    {
        _body = body;
        BitrateBps = bitrateBps;
    }

    public uint SenderSsrc => BinaryPrimitives.ReadUInt32BigEndian(_body);
    public ulong BitrateBps { get; }
    public int SsrcCount => _body[12];

    public uint GetSsrc(int index) => BinaryPrimitives.ReadUInt32BigEndian(_body.Slice(16 + 4 * index, 4));

    public static bool TryRead(RtcpPacketView packet, out RembView view)
    {
        view = default;
        var body = packet.Body;
        if (packet.PacketType != RtcpPacketType.PayloadSpecificFeedback || packet.Count != Format || body.Length < 16
            || BinaryPrimitives.ReadUInt32BigEndian(body[8..]) != Identifier || body.Length < 16 + 4 * body[12])
            return false;
        int exponent = body[13] >> 2;
        ulong mantissa = (ulong)((body[13] & 0x03) << 16 | body[14] << 8 | body[15]);
        ulong bitrate = mantissa << exponent;
        if (bitrate >> exponent != mantissa)
            return false; // does not fit 64 bits
        view = new RembView(body, bitrate);
        return true;
    }
}
