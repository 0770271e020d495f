using System.Buffers.Binary;

namespace Engine.Rtp;

/// <summary>
/// Writes an RTP packet (RFC 3550 §5.1): fixed header, CSRCs, an optional header extension
/// block (elements built with <see cref="RtpHeaderExtensionWriter"/>), payload and padding.
/// </summary>
public ref struct RtpPacket
{
    public bool Marker;
    public byte PayloadType;
    public ushort SequenceNumber;
    public uint Timestamp;
    public uint Ssrc;
    public ReadOnlySpan<uint> Csrcs;

    /// <summary>0 for no extension; 0xBEDE or 0x100X for RFC 8285 elements.</summary>
    public ushort ExtensionProfile;

    /// <summary>Extension elements; the writer zero-pads them to a 32-bit boundary (RFC 8285 §4.1).</summary>
    public ReadOnlySpan<byte> ExtensionElements;

    public ReadOnlySpan<byte> Payload;

    /// <summary>Padding octets to append (RFC 3550 §5.1), 0..255; 0 leaves the P bit clear.</summary>
    public byte PaddingLength;

    public readonly int HeaderLength =>
        RtpPacketView.FixedHeaderLength + 4 * Csrcs.Length
        + (ExtensionProfile != 0 ? 4 + ((ExtensionElements.Length + 3) & ~3) : 0);

    public readonly int GetSerializedLength() => HeaderLength + Payload.Length + PaddingLength;

    /// <summary>Writes the packet; returns its length, or 0 (nothing written) when it does not fit or the CSRC count exceeds 15.</summary>
    public readonly int Write(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length || Csrcs.Length > 15 || PayloadType > 127)
            return 0;
        destination[0] = (byte)(0x80 | (PaddingLength > 0 ? 0x20 : 0) | (ExtensionProfile != 0 ? 0x10 : 0) | Csrcs.Length);
        destination[1] = (byte)((Marker ? 0x80 : 0) | PayloadType);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], SequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Ssrc);
        int offset = RtpPacketView.FixedHeaderLength;
        foreach (uint csrc in Csrcs)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], csrc);
            offset += 4;
        }
        if (ExtensionProfile != 0)
        {
            int padded = (ExtensionElements.Length + 3) & ~3;
            BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], ExtensionProfile);
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], (ushort)(padded / 4));
            offset += 4;
            ExtensionElements.CopyTo(destination[offset..]);
            destination.Slice(offset + ExtensionElements.Length, padded - ExtensionElements.Length).Clear();
            offset += padded;
        }
        Payload.CopyTo(destination[offset..]);
        offset += Payload.Length;
        if (PaddingLength > 0)
        {
            destination.Slice(offset, PaddingLength - 1).Clear();
            destination[offset + PaddingLength - 1] = PaddingLength;
            offset += PaddingLength;
        }
        return offset;
    }
}
