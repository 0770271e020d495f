using System.Buffers.Binary;

namespace Engine.Rtp;

/// <summary>
/// A parsed RTP packet over the caller's bytes. RFC 3550 §5.1:
/// <code>
///  0                   1                   2                   3
/// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
/// |                           timestamp                           |
/// |           synchronization source (SSRC) identifier            |
/// |            contributing source (CSRC) identifiers  ...        |
/// </code>
/// followed by the optional header extension (RFC 3550 §5.3.1, RFC 8285), the payload and padding.
/// </summary>
public readonly ref struct RtpPacketView
{
    public const int FixedHeaderLength = 12;

    private readonly ReadOnlySpan<byte> _packet;
    private readonly int _headerLength;
    private readonly int _payloadLength;

    private RtpPacketView(ReadOnlySpan<byte> packet, int headerLength, int payloadLength)
    {
        _packet = packet;
        _headerLength = headerLength;
        _payloadLength = payloadLength;
    }

    public int Version => _packet[0] >> 6;
    public bool HasPadding => (_packet[0] & 0x20) != 0;
    public bool HasExtension => (_packet[0] & 0x10) != 0;
    public int CsrcCount => _packet[0] & 0x0f;
    public bool Marker => (_packet[1] & 0x80) != 0;
    public byte PayloadType => (byte)(_packet[1] & 0x7f);
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_packet[2..]);
    public uint Timestamp => BinaryPrimitives.ReadUInt32BigEndian(_packet[4..]);
    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(_packet[8..]);

    /// <summary>Bytes from the first byte to the start of the payload (fixed header, CSRCs, extension).</summary>
    public int HeaderLength => _headerLength;

    /// <summary>Number of padding octets at the end (RFC 3550 §5.1: the last octet counts them).</summary>
    public int PaddingLength => HasPadding ? _packet[^1] : 0;

    public uint GetCsrc(int index) => BinaryPrimitives.ReadUInt32BigEndian(_packet.Slice(FixedHeaderLength + 4 * index, 4));

    /// <summary>The 16-bit "defined by profile" field: 0xBEDE for one-byte, 0x100X for two-byte elements.</summary>
    public ushort ExtensionProfile => HasExtension ? BinaryPrimitives.ReadUInt16BigEndian(_packet[ExtensionOffset..]) : (ushort)0;

    /// <summary>The extension data after the 4-byte extension header, without it.</summary>
    public ReadOnlySpan<byte> ExtensionBlock => HasExtension ? _packet[(ExtensionOffset + 4).._headerLength] : default;

    /// <summary>The payload, padding stripped.</summary>
    public ReadOnlySpan<byte> Payload => _packet.Slice(_headerLength, _payloadLength);

    /// <summary>The whole packet as given to <see cref="TryRead"/>.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    /// <summary>Header extension elements (RFC 8285 one-byte or two-byte); empty for other profiles.</summary>
    public RtpHeaderExtensionEnumerator Extensions => new(ExtensionProfile, ExtensionBlock);

    /// <summary>Finds the first header extension element with <paramref name="id"/>.</summary>
    public bool TryGetExtension(int id, out ReadOnlySpan<byte> data)
    {
        foreach (var e in Extensions)
        {
            if (e.Id == id)
            {
                data = e.Data;
                return true;
            }
        }
        data = default;
        return false;
    }

    private int ExtensionOffset => FixedHeaderLength + 4 * CsrcCount;

    /// <summary>
    /// Parses and validates: version 2, CSRC list, extension length, RFC 8285 element lengths
    /// and padding count all inside <paramref name="packet"/>. Never throws.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> packet, out RtpPacketView view)
    {
        view = default;
        if (packet.Length < FixedHeaderLength || (packet[0] >> 6) != 2)
            return false;
        int header = FixedHeaderLength + 4 * (packet[0] & 0x0f);
        if (packet.Length < header)
            return false;
        if ((packet[0] & 0x10) != 0)
        {
            // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words excluding this header.
            if (packet.Length < header + 4)
                return false;
            ushort profile = BinaryPrimitives.ReadUInt16BigEndian(packet[header..]);
            int words = BinaryPrimitives.ReadUInt16BigEndian(packet[(header + 2)..]);
            int blockStart = header + 4;
            header = blockStart + 4 * words;
            if (packet.Length < header)
                return false;
            if (!RtpHeaderExtensionEnumerator.IsWellFormed(profile, packet[blockStart..header]))
                return false;
        }
        int payload = packet.Length - header;
        if ((packet[0] & 0x20) != 0)
        {
            // RFC 3550 §5.1: padding count includes itself, so 0 is invalid.
            int pad = packet[^1];
            if (pad == 0 || pad > payload)
                return false;
            payload -= pad;
        }
        view = new RtpPacketView(packet, header, payload);
        return true;
    }
}
