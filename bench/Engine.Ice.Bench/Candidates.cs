using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Ice.Bench;

/// <summary>
/// Bench-only candidates, kept to compare against what src/Ice ships: the managed SHA-1 compression
/// with all 80 rounds unrolled (StunSha1 runs them five at a time), and CRC-32 slicing-by-8 without
/// bounds checks and slicing-by-16 (StunCrc32 is slicing-by-8 over a checked uint[]).
/// </summary>
internal struct UnrolledSha1
{
    public uint H0, H1, H2, H3, H4;

    /// <summary>
    /// The managed compression, FIPS 180-4 §6.1.2. The schedule is expanded first, then the 80
    /// rounds run unrolled with the working variables renamed instead of shifted. Each round adds
    /// rotl5(a) last: a is the value just computed, so the chain between rounds is one rotate and one add.
    /// </summary>
    [SkipLocalsInit]
    public unsafe void Compress(ref byte block)
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

        uint a = H0, b = H1, c = H2, d = H3, e = H4;
        // rounds 0-19
        e = e + w[0] + 0x5A827999 + (d ^ (b & (c ^ d))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[1] + 0x5A827999 + (c ^ (a & (b ^ c))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[2] + 0x5A827999 + (b ^ (e & (a ^ b))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[3] + 0x5A827999 + (a ^ (d & (e ^ a))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[4] + 0x5A827999 + (e ^ (c & (d ^ e))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[5] + 0x5A827999 + (d ^ (b & (c ^ d))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[6] + 0x5A827999 + (c ^ (a & (b ^ c))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[7] + 0x5A827999 + (b ^ (e & (a ^ b))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[8] + 0x5A827999 + (a ^ (d & (e ^ a))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[9] + 0x5A827999 + (e ^ (c & (d ^ e))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[10] + 0x5A827999 + (d ^ (b & (c ^ d))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[11] + 0x5A827999 + (c ^ (a & (b ^ c))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[12] + 0x5A827999 + (b ^ (e & (a ^ b))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[13] + 0x5A827999 + (a ^ (d & (e ^ a))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[14] + 0x5A827999 + (e ^ (c & (d ^ e))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[15] + 0x5A827999 + (d ^ (b & (c ^ d))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[16] + 0x5A827999 + (c ^ (a & (b ^ c))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[17] + 0x5A827999 + (b ^ (e & (a ^ b))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[18] + 0x5A827999 + (a ^ (d & (e ^ a))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[19] + 0x5A827999 + (e ^ (c & (d ^ e))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        // rounds 20-39
        e = e + w[20] + 0x6ED9EBA1 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[21] + 0x6ED9EBA1 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[22] + 0x6ED9EBA1 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[23] + 0x6ED9EBA1 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[24] + 0x6ED9EBA1 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[25] + 0x6ED9EBA1 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[26] + 0x6ED9EBA1 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[27] + 0x6ED9EBA1 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[28] + 0x6ED9EBA1 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[29] + 0x6ED9EBA1 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[30] + 0x6ED9EBA1 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[31] + 0x6ED9EBA1 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[32] + 0x6ED9EBA1 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[33] + 0x6ED9EBA1 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[34] + 0x6ED9EBA1 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[35] + 0x6ED9EBA1 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[36] + 0x6ED9EBA1 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[37] + 0x6ED9EBA1 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[38] + 0x6ED9EBA1 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[39] + 0x6ED9EBA1 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        // rounds 40-59
        e = e + w[40] + 0x8F1BBCDC + ((b & c) | (d & (b | c))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[41] + 0x8F1BBCDC + ((a & b) | (c & (a | b))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[42] + 0x8F1BBCDC + ((e & a) | (b & (e | a))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[43] + 0x8F1BBCDC + ((d & e) | (a & (d | e))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[44] + 0x8F1BBCDC + ((c & d) | (e & (c | d))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[45] + 0x8F1BBCDC + ((b & c) | (d & (b | c))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[46] + 0x8F1BBCDC + ((a & b) | (c & (a | b))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[47] + 0x8F1BBCDC + ((e & a) | (b & (e | a))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[48] + 0x8F1BBCDC + ((d & e) | (a & (d | e))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[49] + 0x8F1BBCDC + ((c & d) | (e & (c | d))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[50] + 0x8F1BBCDC + ((b & c) | (d & (b | c))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[51] + 0x8F1BBCDC + ((a & b) | (c & (a | b))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[52] + 0x8F1BBCDC + ((e & a) | (b & (e | a))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[53] + 0x8F1BBCDC + ((d & e) | (a & (d | e))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[54] + 0x8F1BBCDC + ((c & d) | (e & (c | d))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[55] + 0x8F1BBCDC + ((b & c) | (d & (b | c))) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[56] + 0x8F1BBCDC + ((a & b) | (c & (a | b))) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[57] + 0x8F1BBCDC + ((e & a) | (b & (e | a))) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[58] + 0x8F1BBCDC + ((d & e) | (a & (d | e))) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[59] + 0x8F1BBCDC + ((c & d) | (e & (c | d))) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        // rounds 60-79
        e = e + w[60] + 0xCA62C1D6 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[61] + 0xCA62C1D6 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[62] + 0xCA62C1D6 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[63] + 0xCA62C1D6 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[64] + 0xCA62C1D6 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[65] + 0xCA62C1D6 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[66] + 0xCA62C1D6 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[67] + 0xCA62C1D6 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[68] + 0xCA62C1D6 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[69] + 0xCA62C1D6 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[70] + 0xCA62C1D6 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[71] + 0xCA62C1D6 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[72] + 0xCA62C1D6 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[73] + 0xCA62C1D6 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[74] + 0xCA62C1D6 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        e = e + w[75] + 0xCA62C1D6 + (b ^ c ^ d) + BitOperations.RotateLeft(a, 5); b = BitOperations.RotateLeft(b, 30);
        d = d + w[76] + 0xCA62C1D6 + (a ^ b ^ c) + BitOperations.RotateLeft(e, 5); a = BitOperations.RotateLeft(a, 30);
        c = c + w[77] + 0xCA62C1D6 + (e ^ a ^ b) + BitOperations.RotateLeft(d, 5); e = BitOperations.RotateLeft(e, 30);
        b = b + w[78] + 0xCA62C1D6 + (d ^ e ^ a) + BitOperations.RotateLeft(c, 5); d = BitOperations.RotateLeft(d, 30);
        a = a + w[79] + 0xCA62C1D6 + (c ^ d ^ e) + BitOperations.RotateLeft(b, 5); c = BitOperations.RotateLeft(c, 30);
        H0 += a;
        H1 += b;
        H2 += c;
        H3 += d;
        H4 += e;
    }
}

internal static class Crc32Candidates
{
    private static readonly uint[] Table = BuildTable(16);

    public static uint Sliced8Unchecked(ReadOnlySpan<byte> data)
    {
        ref uint t = ref MemoryMarshal.GetArrayDataReference(Table);
        ref byte p = ref MemoryMarshal.GetReference(data);
        nint n = data.Length, i = 0;
        uint crc = 0xFFFFFFFF;
        for (; n - i >= 8; i += 8)
        {
            uint a = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)) ^ crc;
            uint b = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 4));
            crc = Unsafe.Add(ref t, (7 * 256) + (nint)(a & 0xFF)) ^ Unsafe.Add(ref t, (6 * 256) + (nint)((a >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (5 * 256) + (nint)((a >> 16) & 0xFF)) ^ Unsafe.Add(ref t, (4 * 256) + (nint)(a >> 24))
                ^ Unsafe.Add(ref t, (3 * 256) + (nint)(b & 0xFF)) ^ Unsafe.Add(ref t, (2 * 256) + (nint)((b >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, 256 + (nint)((b >> 16) & 0xFF)) ^ Unsafe.Add(ref t, (nint)(b >> 24));
        }
        for (; i < n; i++)
            crc = Unsafe.Add(ref t, (nint)((crc ^ Unsafe.Add(ref p, i)) & 0xFF)) ^ (crc >> 8);
        return ~crc;
    }

    public static uint Sliced16Unchecked(ReadOnlySpan<byte> data)
    {
        ref uint t = ref MemoryMarshal.GetArrayDataReference(Table);
        ref byte p = ref MemoryMarshal.GetReference(data);
        nint n = data.Length, i = 0;
        uint crc = 0xFFFFFFFF;
        for (; n - i >= 16; i += 16)
        {
            uint a = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)) ^ crc;
            uint b = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 4));
            uint c = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 8));
            uint d = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 12));
            crc = Unsafe.Add(ref t, (15 * 256) + (nint)(a & 0xFF)) ^ Unsafe.Add(ref t, (14 * 256) + (nint)((a >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (13 * 256) + (nint)((a >> 16) & 0xFF)) ^ Unsafe.Add(ref t, (12 * 256) + (nint)(a >> 24))
                ^ Unsafe.Add(ref t, (11 * 256) + (nint)(b & 0xFF)) ^ Unsafe.Add(ref t, (10 * 256) + (nint)((b >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (9 * 256) + (nint)((b >> 16) & 0xFF)) ^ Unsafe.Add(ref t, (8 * 256) + (nint)(b >> 24))
                ^ Unsafe.Add(ref t, (7 * 256) + (nint)(c & 0xFF)) ^ Unsafe.Add(ref t, (6 * 256) + (nint)((c >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (5 * 256) + (nint)((c >> 16) & 0xFF)) ^ Unsafe.Add(ref t, (4 * 256) + (nint)(c >> 24))
                ^ Unsafe.Add(ref t, (3 * 256) + (nint)(d & 0xFF)) ^ Unsafe.Add(ref t, (2 * 256) + (nint)((d >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, 256 + (nint)((d >> 16) & 0xFF)) ^ Unsafe.Add(ref t, (nint)(d >> 24));
        }
        if (n - i >= 8)
        {
            uint a = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)) ^ crc;
            uint b = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i + 4));
            crc = Unsafe.Add(ref t, (7 * 256) + (nint)(a & 0xFF)) ^ Unsafe.Add(ref t, (6 * 256) + (nint)((a >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (5 * 256) + (nint)((a >> 16) & 0xFF)) ^ Unsafe.Add(ref t, (4 * 256) + (nint)(a >> 24))
                ^ Unsafe.Add(ref t, (3 * 256) + (nint)(b & 0xFF)) ^ Unsafe.Add(ref t, (2 * 256) + (nint)((b >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, 256 + (nint)((b >> 16) & 0xFF)) ^ Unsafe.Add(ref t, (nint)(b >> 24));
            i += 8;
        }
        for (; i < n; i++)
            crc = Unsafe.Add(ref t, (nint)((crc ^ Unsafe.Add(ref p, i)) & 0xFF)) ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildTable(int slices)
    {
        var t = new uint[slices * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB88320 : c >> 1;
            t[i] = c;
        }
        for (int j = 1; j < slices; j++)
            for (int i = 0; i < 256; i++)
                t[(j * 256) + i] = (t[((j - 1) * 256) + i] >> 8) ^ t[t[((j - 1) * 256) + i] & 0xFF];
        return t;
    }
}
