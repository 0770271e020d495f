using System.Buffers.Binary;

namespace Engine.Rtp.Rtcp;

/// <summary>One FIR FCI entry (RFC 5104 §4.3.1.1): target SSRC, command sequence number, 24 reserved bits.</summary>
public readonly struct FirEntry
{
    public const int Length = 8;

    public FirEntry(uint ssrc, byte sequenceNumber)
    {
        Ssrc = ssrc;
        SequenceNumber = sequenceNumber;
    }

    public uint Ssrc { get; }
    public byte SequenceNumber { get; }

    public static FirEntry Read(ReadOnlySpan<byte> data) => new(BinaryPrimitives.ReadUInt32BigEndian(data), data[4]);

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Ssrc);
        destination[4] = SequenceNumber;
        destination.Slice(5, 3).Clear();
    }
}
