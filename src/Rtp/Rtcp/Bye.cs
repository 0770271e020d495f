using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>Writes a BYE (RFC 3550 §6.6) for up to 31 sources with an optional reason.</summary>
public ref struct Bye
{
    public ReadOnlySpan<uint> Ssrcs;
    public ReadOnlySpan<byte> Reason;

    public readonly int GetSerializedLength() =>
        RtcpPacketView.HeaderLength + 4 * Ssrcs.Length + (Reason.IsEmpty ? 0 : (1 + Reason.Length + 3) & ~3);

    public readonly int Write(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length || Ssrcs.Length > 31 || Reason.Length > 255)
            return 0;
        RtcpPacketView.WriteHeader(destination, Ssrcs.Length, RtcpPacketType.Goodbye, length);
        int offset = 4;
        foreach (uint ssrc in Ssrcs)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], ssrc);
            offset += 4;
        }
        if (!Reason.IsEmpty)
        {
            destination[offset] = (byte)Reason.Length;
            Reason.CopyTo(destination[(offset + 1)..]);
            destination[(offset + 1 + Reason.Length)..length].Clear();
        }
        return length;
    }
}
