using System.Buffers.Binary;

namespace Engine.Rtp;

/// <summary>
/// Transport-wide sequence number header extension value, 16 bits, one counter across all
/// streams of the transport (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2).
/// </summary>
public static class TransportSequenceNumber
{
    public const int SerializedLength = 2;

    public static bool TryRead(ReadOnlySpan<byte> data, out ushort sequenceNumber)
    {
        sequenceNumber = 0;
        if (data.Length != SerializedLength)
            return false;
        sequenceNumber = BinaryPrimitives.ReadUInt16BigEndian(data);
        return true;
    }

    public static int Write(Span<byte> destination, ushort sequenceNumber)
    {
        if (destination.Length < SerializedLength)
            return 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination, sequenceNumber);
        return SerializedLength;
    }
}
