using System.Buffers.Binary;
using System.Security.Cryptography;
using Engine.Dtls.Crypto;

namespace Engine.Dtls.Record;

/// <summary>
/// AES-GCM record protection for one direction (RFC 5288 §3, RFC 6347 §4.1.2.1): the nonce is the
/// 4-byte implicit IV plus an 8-byte explicit part sent in the record, for which we use epoch|seq.
/// </summary>
internal sealed class RecordCipher : IDisposable
{
    public const int ExplicitNonceLength = 8;
    public const int TagLength = 16;
    public const int Overhead = ExplicitNonceLength + TagLength;

    // libcrypto's EVP when it is there (a bad tag is a return value); .NET's AesGcm otherwise (it throws).
    private readonly LibCryptoGcm? _native;
    private readonly AesGcm? _aead;
    private readonly byte[] _implicitIv;

    public RecordCipher(ReadOnlySpan<byte> key, ReadOnlySpan<byte> implicitIv)
    {
        _native = LibCryptoGcm.TryCreate(key);
        if (_native == null)
            _aead = new AesGcm(key, TagLength);
        _implicitIv = implicitIv.ToArray();
    }

    /// <summary>True when records go through libcrypto (no exception for a bad tag).</summary>
    public bool IsNative => _native != null;

    /// <summary>Writes explicit nonce, ciphertext and tag into <paramref name="dst"/>; returns the fragment length.</summary>
    public int Seal(ulong epochAndSequence, ContentType type, ReadOnlySpan<byte> plaintext, Span<byte> dst)
    {
        Span<byte> nonce = stackalloc byte[12];
        _implicitIv.CopyTo(nonce);
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], epochAndSequence);
        nonce[4..].CopyTo(dst);
        Span<byte> aad = stackalloc byte[13];
        WriteAad(aad, epochAndSequence, type, plaintext.Length);
        var ciphertext = dst.Slice(ExplicitNonceLength, plaintext.Length);
        var tag = dst.Slice(ExplicitNonceLength + plaintext.Length, TagLength);
        if (_native != null)
        {
            if (!_native.Seal(nonce, plaintext, ciphertext, tag, aad))
                throw new CryptographicException("libcrypto AES-GCM seal failed"); // our own bug, not wire input
        }
        else
        {
            _aead!.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        }
        return plaintext.Length + Overhead;
    }

    public bool TryOpen(ulong epochAndSequence, ContentType type, ReadOnlySpan<byte> fragment, Span<byte> dst, out int length)
    {
        length = fragment.Length - Overhead;
        if (length < 0 || dst.Length < length)
        {
            length = 0;
            return false;
        }
        Span<byte> nonce = stackalloc byte[12];
        _implicitIv.CopyTo(nonce);
        fragment[..ExplicitNonceLength].CopyTo(nonce[4..]);
        Span<byte> aad = stackalloc byte[13];
        WriteAad(aad, epochAndSequence, type, length);
        if (_native != null)
        {
            if (_native.Open(nonce, fragment.Slice(ExplicitNonceLength, length), fragment[^TagLength..], dst[..length], aad))
                return true;
            length = 0;
            return false;
        }
        try
        {
            _aead!.Decrypt(nonce, fragment.Slice(ExplicitNonceLength, length), fragment[^TagLength..], dst[..length], aad);
            return true;
        }
        catch (CryptographicException)
        {
            length = 0;
            return false;
        }
    }

    // RFC 5246 §6.2.3.3: seq_num + type + version + length of the plaintext.
    private static void WriteAad(Span<byte> aad, ulong epochAndSequence, ContentType type, int length)
    {
        BinaryPrimitives.WriteUInt64BigEndian(aad, epochAndSequence);
        aad[8] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(aad[9..], DtlsEndpoint.VersionDtls12);
        BinaryPrimitives.WriteUInt16BigEndian(aad[11..], (ushort)length);
    }

    public void Dispose()
    {
        _native?.Dispose();
        _aead?.Dispose();
    }
}
