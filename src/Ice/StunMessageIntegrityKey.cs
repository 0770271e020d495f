using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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
    [SkipLocalsInit]
    internal unsafe void Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> mac20)
    {
        uint* context = stackalloc uint[StunSha1.ContextWords];
        Inner.CopyTo(context);
        StunSha1.Finish(context, StunSha1.BlockSize, first, second);

        // The outer hash is always one block: the inner digest, then the FIPS 180-4 §5.1.1 padding
        // for 64 + 20 bytes. It is built as four 16-byte stores, the loads libcrypto makes, so they
        // are store-forwarded (byte and word stores under a 16-byte load stall it; 3-5 ns measured).
        Vector128<uint>* outerBlock = stackalloc Vector128<uint>[4];
        Vector128<byte> bigEndian = Vector128.Create((byte)3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
        outerBlock[0] = Vector128.Shuffle(Vector128.Load(context).AsByte(), bigEndian).AsUInt32();
        outerBlock[1] = Vector128.Create(BinaryPrimitives.ReverseEndianness(context[4]), 0x80, 0, 0);
        outerBlock[2] = Vector128<uint>.Zero;
        outerBlock[3] = Vector128.Create(0, 0, 0, BinaryPrimitives.ReverseEndianness((uint)(StunSha1.BlockSize + StunSha1.DigestSize) * 8));
        Outer.CopyTo(context);
        StunSha1.CompressBlock(context, ref *(byte*)outerBlock);
        StunSha1.WriteDigest(context, mac20);
    }
}
