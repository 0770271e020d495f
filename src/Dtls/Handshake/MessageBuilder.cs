using System.Buffers.Binary;

namespace Engine.Dtls.Handshake;

/// <summary>Big-endian writer for handshake bodies, with back-patched length prefixes. Per handshake, not per packet.</summary>
internal sealed class MessageBuilder
{
    private byte[] _buffer = new byte[1024];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    public void U8(int value) => Reserve(1)[0] = (byte)value;

    public void U16(int value) => BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), (ushort)value);

    public void U24(int value)
    {
        Span<byte> s = Reserve(3);
        s[0] = (byte)(value >> 16);
        s[1] = (byte)(value >> 8);
        s[2] = (byte)value;
    }

    public void Bytes(ReadOnlySpan<byte> data) => data.CopyTo(Reserve(data.Length));

    /// <summary>Reserves a length prefix of 1, 2 or 3 bytes; pass the result to <see cref="EndLength"/>.</summary>
    public int BeginLength(int prefixBytes)
    {
        Reserve(prefixBytes);
        return Length;
    }

    public void EndLength(int mark, int prefixBytes)
    {
        int len = Length - mark;
        Span<byte> s = _buffer.AsSpan(mark - prefixBytes, prefixBytes);
        for (int i = prefixBytes - 1; i >= 0; i--, len >>= 8) s[i] = (byte)len;
    }

    public Span<byte> Reserve(int count)
    {
        if (Length + count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
        Span<byte> s = _buffer.AsSpan(Length, count);
        Length += count;
        return s;
    }

    public byte[] ToArray() => Written.ToArray();
}
