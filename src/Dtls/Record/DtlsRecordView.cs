using System.Buffers.Binary;

namespace Engine.Dtls.Record;

/// <summary>
/// One DTLS record over the caller's bytes (RFC 6347 §4.1):
/// type(1) version(2) epoch(2) sequence_number(6) length(2) fragment(length).
/// </summary>
public readonly ref struct DtlsRecordView
{
    public const int HeaderLength = 13;

    /// <summary>RFC 6347 §4.1: ciphertext may exceed 2^14 by at most 2048 bytes.</summary>
    public const int MaxFragmentLength = 16384 + 2048;

    private DtlsRecordView(ReadOnlySpan<byte> header, ReadOnlySpan<byte> fragment)
    {
        Header = header;
        Fragment = fragment;
    }

    public ReadOnlySpan<byte> Header { get; }

    public ReadOnlySpan<byte> Fragment { get; }

    public ContentType ContentType => (ContentType)Header[0];

    public ushort Version => BinaryPrimitives.ReadUInt16BigEndian(Header[1..]);

    public ushort Epoch => BinaryPrimitives.ReadUInt16BigEndian(Header[3..]);

    /// <summary>The 48-bit record sequence number.</summary>
    public ulong SequenceNumber => BinaryPrimitives.ReadUInt64BigEndian(Header[3..]) & 0xFFFF_FFFF_FFFFUL;

    /// <summary>Epoch and sequence number as the 64-bit seq_num of the AEAD nonce and AAD (RFC 6347 §4.1.2.1).</summary>
    public ulong EpochAndSequence => BinaryPrimitives.ReadUInt64BigEndian(Header[3..]);

    public int TotalLength => HeaderLength + Fragment.Length;

    public static bool TryRead(ReadOnlySpan<byte> data, out DtlsRecordView record)
    {
        record = default;
        if (data.Length < HeaderLength) return false;
        byte type = data[0];
        if (type < (byte)ContentType.ChangeCipherSpec || type > (byte)ContentType.ApplicationData) return false;
        if (data[1] != 0xFE) return false; // DTLS versions are 0xFEFF (1.0) and 0xFEFD (1.2)
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[11..]);
        if (length > MaxFragmentLength || data.Length - HeaderLength < length) return false;
        record = new DtlsRecordView(data[..HeaderLength], data.Slice(HeaderLength, length));
        return true;
    }
}
