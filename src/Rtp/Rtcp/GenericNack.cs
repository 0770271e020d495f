using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>
/// Writes a generic NACK (RFC 4585 §6.2.1) from lost sequence numbers given in ascending order
/// (modulo 2^16); each PID covers itself and the 16 numbers after it in its BLP.
/// </summary>
public ref struct GenericNack
{
    public uint SenderSsrc;
    public uint MediaSsrc;
    public ReadOnlySpan<ushort> LostSequenceNumbers;

    public readonly int GetSerializedLength() => 12 + 4 * CountItems();

    /// <summary>Returns the bytes written, or 0 when the destination is too small or nothing is lost.</summary>
    public readonly int Write(Span<byte> destination)
    {
        int length = GetSerializedLength();
        if (destination.Length < length || LostSequenceNumbers.IsEmpty)
            return 0;
        RtcpPacketView.WriteFeedbackHeader(destination, GenericNackView.Format, RtcpPacketType.TransportFeedback, length, SenderSsrc, MediaSsrc);
        int offset = 12;
        var lost = LostSequenceNumbers;
        int i = 0;
        while (i < lost.Length)
        {
            ushort pid = lost[i++];
            ushort blp = 0;
            while (i < lost.Length)
            {
                int diff = (ushort)(lost[i] - pid);
                if (diff > 16)
                    break;
                if (diff > 0)
                    blp |= (ushort)(1 << (diff - 1));
                i++;
            }
            BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], pid);
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], blp);
            offset += 4;
        }
        return length;
    }

    private readonly int CountItems()
    {
        var lost = LostSequenceNumbers;
        int items = 0, i = 0;
        while (i < lost.Length)
        {
            ushort pid = lost[i++];
            while (i < lost.Length && (ushort)(lost[i] - pid) <= 16)
                i++;
            items++;
        }
        return items;
    }
}
