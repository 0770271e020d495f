using System.Security.Cryptography;

namespace Engine.Ice;

/// <summary>
/// A MESSAGE-INTEGRITY key (RFC 8489 §14.5) with the HMAC-SHA1 inner and outer pad blocks
/// (RFC 2104 §2) already hashed, so each check or signature costs only the message's blocks.
/// A session creates it once from its ICE password (short-term credential, RFC 8489 §9.1.1) or
/// from <see cref="StunLongTermCredential"/>; it is a plain value (no heap).
/// </summary>
public readonly struct StunMessageIntegrityKey
{
    internal readonly StunSha1 Inner;
    internal readonly StunSha1 Outer;

    private StunMessageIntegrityKey(StunSha1 inner, StunSha1 outer)
    {
        Inner = inner;
        Outer = outer;
    }

    public static StunMessageIntegrityKey Create(scoped ReadOnlySpan<byte> key)
    {
        Span<byte> hashedKey = stackalloc byte[StunSha1.DigestSize];
        if (key.Length > StunSha1.BlockSize)
        {
            // RFC 2104 §2: a key longer than the block is replaced by its hash.
            var h = StunSha1.Initial;
            h.Finish(0, key, default, hashedKey);
            key = hashedKey;
        }
        Span<byte> pad = stackalloc byte[StunSha1.BlockSize];
        var inner = StunSha1.Initial;
        pad.Fill(0x36);
        for (int i = 0; i < key.Length; i++)
            pad[i] ^= key[i];
        inner.Compress(pad);

        var outer = StunSha1.Initial;
        pad.Fill(0x5c);
        for (int i = 0; i < key.Length; i++)
            pad[i] ^= key[i];
        outer.Compress(pad);
        CryptographicOperations.ZeroMemory(pad);
        return new StunMessageIntegrityKey(inner, outer);
    }

    /// <summary>HMAC-SHA1 of first || second, written as 20 bytes.</summary>
    internal void Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> mac20)
    {
        Span<byte> innerDigest = stackalloc byte[StunSha1.DigestSize];
        var h = Inner;
        h.Finish(StunSha1.BlockSize, first, second, innerDigest);
        h = Outer;
        h.Finish(StunSha1.BlockSize, innerDigest, default, mac20);
    }
}
