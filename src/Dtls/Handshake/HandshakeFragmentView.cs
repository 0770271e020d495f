using System.Buffers.Binary;

namespace Engine.Dtls.Handshake;

/// <summary>
/// One handshake fragment (RFC 6347 §4.2.2): msg_type(1) length(3) message_seq(2)
/// fragment_offset(3) fragment_length(3) body(fragment_length).
/// </summary>
public readonly ref struct HandshakeFragmentView
{
    public const int HeaderLength = 12;

    private HandshakeFragmentView(HandshakeType type, int length, ushort seq, int offset, ReadOnlySpan<byte> body)
    {
        Type = type;
        MessageLength = length;
        MessageSeq = seq;
        FragmentOffset = offset;
        Body = body;
    }

    public HandshakeType Type { get; }

    public int MessageLength { get; }

    public ushort MessageSeq { get; }

    public int FragmentOffset { get; }

    public ReadOnlySpan<byte> Body { get; }

    public int TotalLength => HeaderLength + Body.Length;

    /// <summary>The fragment is the whole message, so it can be handled without reassembly.</summary>
    public bool IsComplete => FragmentOffset == 0 && Body.Length == MessageLength;

    public static bool TryRead(ReadOnlySpan<byte> data, out HandshakeFragmentView fragment)
    {
        fragment = default;
        if (data.Length < HeaderLength) return false;
        int length = ReadUInt24(data[1..]);
        ushort seq = BinaryPrimitives.ReadUInt16BigEndian(data[4..]);
        int offset = ReadUInt24(data[6..]);
        int fragmentLength = ReadUInt24(data[9..]);
        if (data.Length - HeaderLength < fragmentLength || offset + fragmentLength > length) return false;
        fragment = new HandshakeFragmentView((HandshakeType)data[0], length, seq, offset, data.Slice(HeaderLength, fragmentLength));
        return true;
    }

    internal static int ReadUInt24(ReadOnlySpan<byte> data) => (data[0] << 16) | (data[1] << 8) | data[2];
}
