using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// One RTCP packet's common header (RFC 3550 §6.4.1) over the caller's bytes:
/// <code>
/// |V=2|P|  count  |      PT       |             length            |
/// </code>
/// length is in 32-bit words minus one; count is RC, SC or FMT depending on the type.
/// </summary>
public readonly ref struct RtcpPacketView
{
    public const int HeaderLength = 4;

    private readonly ReadOnlySpan<byte> _packet;
    private readonly int _bodyLength;

    private RtcpPacketView(ReadOnlySpan<byte> packet, int bodyLength)
    {
        _packet = packet;
        _bodyLength = bodyLength;
    }

    public bool HasPadding => (_packet[0] & 0x20) != 0;

    /// <summary>The 5-bit field after P: reception report count, source count or feedback message type.</summary>
    public int Count => _packet[0] & 0x1f;

    public RtcpPacketType PacketType => (RtcpPacketType)_packet[1];

    /// <summary>The packet including header and padding: exactly (length + 1) * 4 bytes.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    /// <summary>The bytes after the common header, padding stripped.</summary>
    public ReadOnlySpan<byte> Body => _packet.Slice(HeaderLength, _bodyLength);

    /// <summary>Reads the first RTCP packet of <paramref name="data"/>; <paramref name="length"/> is its size in bytes.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out RtcpPacketView packet, out int length)
    {
        packet = default;
        length = 0;
        if (data.Length < HeaderLength || (data[0] >> 6) != 2)
            return false;
        int size = (BinaryPrimitives.ReadUInt16BigEndian(data[2..]) + 1) * 4;
        if (size > data.Length)
            return false;
        int body = size - HeaderLength;
        if ((data[0] & 0x20) != 0)
        {
            // RFC 3550 §6.4.1: the last octet counts the padding, itself included.
            int pad = data[size - 1];
            if (pad == 0 || pad > body)
                return false;
            body -= pad;
        }
        packet = new RtcpPacketView(data[..size], body);
        length = size;
        return true;
    }

    /// <summary>Reads a buffer that must hold exactly one RTCP packet.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out RtcpPacketView packet) =>
        TryRead(data, out packet, out int length) && length == data.Length;

    /// <summary>Writes a common header for a packet of <paramref name="totalLength"/> bytes (a multiple of 4).</summary>
    internal static void WriteHeader(Span<byte> destination, int count, RtcpPacketType type, int totalLength)
    {
        destination[0] = (byte)(0x80 | (count & 0x1f));
        destination[1] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(totalLength / 4 - 1));
    }

    /// <summary>Writes the common header plus the RFC 4585 §6.1 feedback SSRCs (12 bytes).</summary>
    internal static void WriteFeedbackHeader(Span<byte> destination, int format, RtcpPacketType type, int totalLength, uint senderSsrc, uint mediaSsrc)
    {
        WriteHeader(destination, format, type, totalLength);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], senderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], mediaSsrc);
    }
}
