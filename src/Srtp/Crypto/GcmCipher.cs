using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace Engine.Srtp.Crypto;

/// <summary>
/// AES-GCM with a 96-bit IV and a 16-byte tag (NIST SP 800-38D), in place, never throwing on a bad tag.
/// Counter mode and GHASH are two passes over the packet: a fused pass (AES rounds of one chunk
/// beside the carry-less multiplies of the previous) measured no faster on this CPU, so the
/// simpler form stays, and a rejected packet is simply never decrypted.
/// </summary>
internal sealed class GcmCipher : IDisposable
{
    public const int TagLength = 16;

    private readonly AesCipher _aes;
    private readonly Ghash _ghash;

    public GcmCipher(ReadOnlySpan<byte> key, bool allowHardware = true)
    {
        _aes = new AesCipher(key, allowHardware);
        _ghash = new Ghash(_aes.EncryptBlock(Vector128<byte>.Zero), allowHardware);
        IsHardware = _aes.IsHardware && _ghash.IsHardware;
    }

    public bool IsHardware { get; }

    public void Dispose() => _aes.Dispose();

    /// <param name="iv">The 12-byte IV in bytes 0..11; bytes 12..15 zero.</param>
    public void Seal(Vector128<byte> iv, ReadOnlySpan<byte> aad, Span<byte> data, Span<byte> tag)
    {
        // SP 800-38D §7.1: J0 = IV || 0^31 || 1; the payload starts at inc32(J0).
        _aes.Ctr(iv, 2, data);
        (_aes.EncryptBlock(iv ^ J0Counter) ^ _ghash.Compute(aad, data)).CopyTo(tag);
    }

    /// <summary>Verifies, then decrypts; on a bad tag returns false and leaves <paramref name="data"/> as it came.</summary>
    public bool Open(Vector128<byte> iv, ReadOnlySpan<byte> aad, Span<byte> data, ReadOnlySpan<byte> tag)
    {
        Span<byte> expected = stackalloc byte[TagLength];
        (_aes.EncryptBlock(iv ^ J0Counter) ^ _ghash.Compute(aad, data)).CopyTo(expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, tag[..TagLength])) return false;
        _aes.Ctr(iv, 2, data);
        return true;
    }

    private static Vector128<byte> J0Counter => Vector128.Create(0u, 0u, 0u, BinaryPrimitives.ReverseEndianness(1u)).AsByte();
}
