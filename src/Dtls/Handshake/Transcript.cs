using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Engine.Dtls.Handshake;

/// <summary>
/// The handshake messages so far, each with its DTLS header as if sent unfragmented
/// (RFC 6347 §4.2.6), for Finished, CertificateVerify and the extended master secret.
/// </summary>
internal sealed class Transcript
{
    private byte[] _buffer = new byte[4096];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Messages => _buffer.AsSpan(0, Length);

    public void Reset() => Length = 0;

    public void Add(HandshakeType type, ushort seq, ReadOnlySpan<byte> body)
    {
        int need = Length + HandshakeFragmentView.HeaderLength + body.Length;
        if (need > _buffer.Length) Array.Resize(ref _buffer, Math.Max(need, _buffer.Length * 2));
        Span<byte> s = _buffer.AsSpan(Length);
        s[0] = (byte)type;
        WriteUInt24(s[1..], body.Length);
        BinaryPrimitives.WriteUInt16BigEndian(s[4..], seq);
        WriteUInt24(s[6..], 0);
        WriteUInt24(s[9..], body.Length);
        body.CopyTo(s[HandshakeFragmentView.HeaderLength..]);
        Length = need;
    }

    public int Hash(HashAlgorithmName hash, Span<byte> dst) =>
        hash == HashAlgorithmName.SHA384 ? SHA384.HashData(Messages, dst) : SHA256.HashData(Messages, dst);

    internal static void WriteUInt24(Span<byte> dst, int value)
    {
        dst[0] = (byte)(value >> 16);
        dst[1] = (byte)(value >> 8);
        dst[2] = (byte)value;
    }
}
