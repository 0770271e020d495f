using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>BYE (RFC 3550 §6.6): SC SSRC/CSRC identifiers, then an optional length-prefixed reason.</summary>
public readonly ref struct ByeView
{
    private readonly ReadOnlySpan<byte> _body;

    private ByeView(ReadOnlySpan<byte> body, int sourceCount, ReadOnlySpan<byte> reason)
    {
        _body = body;
        SourceCount = sourceCount;
        Reason = reason;
    }

    public int SourceCount { get; }
    public ReadOnlySpan<byte> Reason { get; }

    public uint GetSsrc(int index) => BinaryPrimitives.ReadUInt32BigEndian(_body.Slice(4 * index, 4));

    public static bool TryRead(RtcpPacketView packet, out ByeView view)
    {
        view = default;
        var body = packet.Body;
        int ssrcBytes = 4 * packet.Count;
        if (packet.PacketType != RtcpPacketType.Goodbye || body.Length < ssrcBytes)
            return false;
        ReadOnlySpan<byte> reason = default;
        if (body.Length > ssrcBytes)
        {
            int length = body[ssrcBytes];
            if (ssrcBytes + 1 + length > body.Length)
                return false;
            reason = body.Slice(ssrcBytes + 1, length);
        }
        view = new ByeView(body, packet.Count, reason);
        return true;
    }
}
