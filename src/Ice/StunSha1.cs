using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Ice;

/// <summary>
/// SHA-1 (FIPS 180-4 §6.1) streaming from a saved state. MESSAGE-INTEGRITY needs HMAC-SHA1 twice
/// per connectivity check, and .NET's HMACSHA1/IncrementalHash go through OpenSSL's EVP layer, whose
/// per-call overhead dominates for ~100-byte messages (bench/results/stun.md: TwoHmacSha1ViaOpenSsl
/// against VerifyAndAnswer). Here the key's pad blocks are hashed once
/// (<see cref="StunMessageIntegrityKey"/>) and a check costs only the message's blocks. Each block
/// goes to libcrypto's SHA1_Transform when it is there (SHA-NI; <see cref="StunSha1LibCrypto"/>),
/// otherwise to the managed compression below.
/// </summary>
internal struct StunSha1
{
    public const int BlockSize = 64;
    public const int DigestSize = 20;

    /// <summary>
    /// A whole SHA_CTX, as libcrypto's API declares it. The state is its first five words; the rest
    /// (bit count, partial block) is never read by SHA1_Transform, so it is left uninitialized.
    /// </summary>
    public const int ContextWords = StunSha1LibCrypto.ContextWords;

    public uint H0, H1, H2, H3, H4;

    // Not readonly so tests can force the managed path; both paths give the same bytes.
    private static bool s_useLibCrypto = StunSha1LibCrypto.IsAvailable;

    /// <summary>Whether blocks go to libcrypto; setting true has no effect when it is not available.</summary>
    internal static bool UseLibCrypto
    {
        get => s_useLibCrypto;
        set => s_useLibCrypto = value && StunSha1LibCrypto.IsAvailable;
    }

    public static StunSha1 Initial => new() { H0 = 0x67452301, H1 = 0xEFCDAB89, H2 = 0x98BADCFE, H3 = 0x10325476, H4 = 0xC3D2E1F0 };

    /// <summary>
    /// Finishes the hash of (the blocks already in this state) + first + second, where
    /// <paramref name="hashedLength"/> bytes were hashed before; writes the 20-byte digest.
    /// </summary>
    [SkipLocalsInit]
    public readonly unsafe void Finish(long hashedLength, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> digest)
    {
        uint* context = stackalloc uint[ContextWords];
        CopyTo(context);
        Finish(context, hashedLength, first, second);
        WriteDigest(context, digest);
    }

    /// <summary>
    /// Loads this state into a SHA_CTX-sized context, the form every block is compressed in (it is
    /// what libcrypto takes, and one context serves all the blocks of a hash). h0..h3 move as one
    /// 16-byte store because libcrypto loads them with one 16-byte load, and a load spanning four
    /// separate 4-byte stores is not store-forwarded and stalls (measured ~6 ns per block).
    /// </summary>
    internal readonly unsafe void CopyTo(uint* context)
    {
        Vector128.Store(Unsafe.As<uint, Vector128<uint>>(ref Unsafe.AsRef(in H0)), context);
        context[4] = H4;
    }

    /// <summary>Hashes first + second and the padding (FIPS 180-4 §5.1.1) into the context.</summary>
    [SkipLocalsInit]
    internal static unsafe void Finish(uint* context, long hashedLength, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        long totalBits = (hashedLength + first.Length + second.Length) * 8;
        Span<byte> block = stackalloc byte[BlockSize];
        int pending = 0;
        AppendBlocks(context, first, block, ref pending);
        AppendBlocks(context, second, block, ref pending);

        // 0x80, zeros, then the 64-bit message length in bits.
        block[pending++] = 0x80;
        if (pending > BlockSize - 8)
        {
            block[pending..].Clear();
            CompressBlock(context, ref MemoryMarshal.GetReference(block));
            pending = 0;
        }
        block[pending..(BlockSize - 8)].Clear();
        BinaryPrimitives.WriteInt64BigEndian(block[(BlockSize - 8)..], totalBits);
        CompressBlock(context, ref MemoryMarshal.GetReference(block));
    }

    private static unsafe void AppendBlocks(uint* context, ReadOnlySpan<byte> data, Span<byte> block, ref int pending)
    {
        if (pending > 0)
        {
            int take = Math.Min(BlockSize - pending, data.Length);
            data[..take].CopyTo(block[pending..]);
            pending += take;
            data = data[take..];
            if (pending < BlockSize)
                return;
            CompressBlock(context, ref MemoryMarshal.GetReference(block));
            pending = 0;
        }
        while (data.Length >= BlockSize)
        {
            CompressBlock(context, ref MemoryMarshal.GetReference(data));
            data = data[BlockSize..];
        }
        data.CopyTo(block);
        pending = data.Length;
    }

    internal static unsafe void WriteDigest(uint* context, Span<byte> digest)
    {
        BinaryPrimitives.WriteUInt32BigEndian(digest, context[0]);
        BinaryPrimitives.WriteUInt32BigEndian(digest[4..], context[1]);
        BinaryPrimitives.WriteUInt32BigEndian(digest[8..], context[2]);
        BinaryPrimitives.WriteUInt32BigEndian(digest[12..], context[3]);
        BinaryPrimitives.WriteUInt32BigEndian(digest[16..], context[4]);
    }

    /// <summary>One 64-byte block, FIPS 180-4 §6.1.2, into this state.</summary>
    [SkipLocalsInit]
    public unsafe void Compress(ReadOnlySpan<byte> block)
    {
        if (block.Length < BlockSize)
            throw new ArgumentException("a SHA-1 block is 64 bytes", nameof(block));
        uint* context = stackalloc uint[ContextWords];
        CopyTo(context);
        CompressBlock(context, ref MemoryMarshal.GetReference(block));
        CopyFrom(context);
    }

    /// <summary>One 64-byte block into a context from <see cref="CopyTo"/>.</summary>
    internal static unsafe void CompressBlock(uint* context, ref byte block)
    {
        if (s_useLibCrypto)
        {
            fixed (byte* p = &block)
                StunSha1LibCrypto.Compress(context, p);
        }
        else
        {
            CompressManaged(context, ref block);
        }
    }

    private unsafe void CopyFrom(uint* context)
    {
        Unsafe.As<uint, Vector128<uint>>(ref H0) = Vector128.Load(context);
        H4 = context[4];
    }

    /// <summary>One block through each path regardless of the switch (tests compare them).</summary>
    [SkipLocalsInit]
    internal unsafe void CompressManaged(ref byte block)
    {
        uint* context = stackalloc uint[ContextWords];
        CopyTo(context);
        CompressManaged(context, ref block);
        CopyFrom(context);
    }

    /// <inheritdoc cref="CompressManaged(ref byte)"/>
    [SkipLocalsInit]
    internal unsafe void CompressLibCrypto(ref byte block)
    {
        uint* context = stackalloc uint[ContextWords];
        CopyTo(context);
        fixed (byte* p = &block)
            StunSha1LibCrypto.Compress(context, p);
        CopyFrom(context);
    }

    /// <summary>
    /// The managed compression, FIPS 180-4 §6.1.2. The schedule is expanded first, then the 80
    /// rounds run five at a time with the working variables renamed instead of shifted. Each round
    /// adds rotl5(a) last: a is the value just computed, so the chain between rounds is one rotate
    /// and one add. Unrolling all 80 rounds, or adding K into the vector schedule, measured no
    /// faster (bench/results/stun.md).
    /// </summary>
    [SkipLocalsInit]
    private static unsafe void CompressManaged(uint* state, ref byte block)
    {
        uint* w = stackalloc uint[80];
        for (nint i = 0; i < 16; i++)
            w[i] = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 4 * i)));
        if (Sse2.IsSupported)
        {
            // W[i] = rotl1(W[i-3] ^ W[i-8] ^ W[i-14] ^ W[i-16]) four words at a time: lane 3 needs
            // W[i], computed in lane 0 of the same step, so it is first taken as 0 and then fixed
            // up with rotl1(new lane 0) (rotation distributes over XOR).
            for (nint i = 16; i < 80; i += 4)
            {
                Vector128<uint> x = Sse2.ShiftRightLogical128BitLane(Sse2.LoadVector128(w + i - 4), 4)
                    ^ Sse2.LoadVector128(w + i - 8) ^ Sse2.LoadVector128(w + i - 14) ^ Sse2.LoadVector128(w + i - 16);
                x = Sse2.ShiftLeftLogical(x, 1) | Sse2.ShiftRightLogical(x, 31);
                Vector128<uint> lane0 = Sse2.ShiftLeftLogical128BitLane(x, 12);
                x ^= Sse2.ShiftLeftLogical(lane0, 1) | Sse2.ShiftRightLogical(lane0, 31);
                Sse2.Store(w + i, x);
            }
        }
        else
        {
            for (nint i = 16; i < 80; i++)
                w[i] = BitOperations.RotateLeft(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        }

        uint a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
        nint t = 0;
        for (; t < 20; t += 5)
        {
            e = e + w[t] + 0x5A827999 + (d ^ (b & (c ^ d))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
            d = d + w[t + 1] + 0x5A827999 + (c ^ (a & (b ^ c))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
            c = c + w[t + 2] + 0x5A827999 + (b ^ (e & (a ^ b))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
            b = b + w[t + 3] + 0x5A827999 + (a ^ (d & (e ^ a))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
            a = a + w[t + 4] + 0x5A827999 + (e ^ (c & (d ^ e))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        }
        for (; t < 40; t += 5)
        {
            e = e + w[t] + 0x6ED9EBA1 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
            d = d + w[t + 1] + 0x6ED9EBA1 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
            c = c + w[t + 2] + 0x6ED9EBA1 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
            b = b + w[t + 3] + 0x6ED9EBA1 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
            a = a + w[t + 4] + 0x6ED9EBA1 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        }
        for (; t < 60; t += 5)
        {
            e = e + w[t] + 0x8F1BBCDC + ((b & c) | (d & (b | c))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
            d = d + w[t + 1] + 0x8F1BBCDC + ((a & b) | (c & (a | b))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
            c = c + w[t + 2] + 0x8F1BBCDC + ((e & a) | (b & (e | a))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
            b = b + w[t + 3] + 0x8F1BBCDC + ((d & e) | (a & (d | e))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
            a = a + w[t + 4] + 0x8F1BBCDC + ((c & d) | (e & (c | d))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        }
        for (; t < 80; t += 5)
        {
            e = e + w[t] + 0xCA62C1D6 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
            d = d + w[t + 1] + 0xCA62C1D6 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
            c = c + w[t + 2] + 0xCA62C1D6 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
            b = b + w[t + 3] + 0xCA62C1D6 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
            a = a + w[t + 4] + 0xCA62C1D6 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
    }
}
