using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>Writes an SDES packet (RFC 3550 §6.5) with one chunk holding one CNAME item.</summary>
public ref struct SourceDescription
{
    public uint Ssrc;
    /// <summary>CNAME bytes, at most 255.</summary>
    public ReadOnlySpan<byte> Cname;

    // SSRC, type, length, text, then at least one zero octet up to the 32-bit boundary.
    public readonly int GetSerializedLength() => RtcpPacketView.HeaderLength + 4 + ((2 + Cname.Length + 1 + 3) & ~3);

    public readonly int Write(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length || Cname.Length > 255)
            return 0;
        RtcpPacketView.WriteHeader(destination, 1, RtcpPacketType.SourceDescription, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Ssrc);
        destination[8] = SdesItem.CnameType;
        destination[9] = (byte)Cname.Length;
        Cname.CopyTo(destination[10..]);
        destination[(10 + Cname.Length)..length].Clear();
        return length;
    }
}
