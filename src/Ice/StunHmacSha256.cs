using System.Security.Cryptography;

namespace Engine.Ice;

/// <summary>
/// HMAC-SHA256 (RFC 2104) over a message given in two pieces, so that MESSAGE-INTEGRITY-SHA256
/// can be checked with a patched copy of the 20-byte header followed by the rest of the message
/// in place (RFC 8489 §14.6) instead of copying the message. The pads are built on the stack and
/// hashed with one unkeyed <see cref="IncrementalHash"/> per thread, created once; after that no
/// call allocates and any key can be used. (HMAC-SHA1 runs on <see cref="StunSha1"/> with precomputed pads.)
/// </summary>
internal static class StunHmacSha256
{
    private const int BlockSize = 64;

    [ThreadStatic] private static IncrementalHash? t_sha256;

    public static void Compute(scoped ReadOnlySpan<byte> key, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> mac)
    {
        const int hashSize = 32;
        var hash = t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> hashedKey = stackalloc byte[hashSize];
        if (key.Length > BlockSize)
        {
            // RFC 2104 §2: keys longer than a block are hashed first.
            hash.AppendData(key);
            hash.GetHashAndReset(hashedKey);
            key = hashedKey;
        }

        Span<byte> pad = stackalloc byte[BlockSize];
        pad.Fill(0x36);
        for (int i = 0; i < key.Length; i++)
            pad[i] ^= key[i];
        hash.AppendData(pad);
        hash.AppendData(first);
        hash.AppendData(second);
        Span<byte> inner = stackalloc byte[hashSize];
        hash.GetHashAndReset(inner);

        pad.Fill(0x5c);
        for (int i = 0; i < key.Length; i++)
            pad[i] ^= key[i];
        hash.AppendData(pad);
        hash.AppendData(inner);
        hash.GetHashAndReset(mac);
        CryptographicOperations.ZeroMemory(pad);
    }
}
