using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Srtp.Crypto;

/// <summary>
/// GHASH of NIST SP 800-38D §6.4 over (AAD, ciphertext, lengths). With PCLMULQDQ it multiplies
/// eight blocks by H^8..H^1 (Karatsuba, three PCLMULQDQ a block) and reduces once per eight
/// blocks; without it, a bitwise multiply. Blocks are byte-reversed so the carry-less product
/// works on GCM's reflected bit order.
/// </summary>
internal sealed class Ghash
{
    private const int Aggregate = 8;
    private static readonly Vector128<byte> ByteReverse = Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);

    private readonly bool _hardware;
    private readonly Vector128<byte> _h1;                // byte-reversed H
    private readonly Vector128<ulong>[] _powers = [];    // H^8, H^7, ..., H^1: block j of eight takes _powers[j]
    private readonly Vector128<ulong>[] _karatsuba = []; // hi ^ lo of each power, for the middle product
    private readonly ulong _hHi, _hLo;                   // H for the bitwise fallback

    /// <param name="h">H = E(K, 0^128), in wire byte order.</param>
    public Ghash(Vector128<byte> h, bool allowHardware = true)
    {
        _hardware = allowHardware && Pclmulqdq.IsSupported && Ssse3.IsSupported;
        if (_hardware)
        {
            _h1 = Ssse3.Shuffle(h, ByteReverse);
            _powers = new Vector128<ulong>[Aggregate];
            _karatsuba = new Vector128<ulong>[Aggregate];
            Vector128<byte> power = _h1;
            for (int i = Aggregate - 1; i >= 0; i--)
            {
                _powers[i] = power.AsUInt64();
                _karatsuba[i] = power.AsUInt64() ^ SwapHalves(power.AsUInt64());
                power = Multiply(power, _h1);
            }
        }
        else
        {
            _hHi = BinaryPrimitives.ReadUInt64BigEndian(AsBytes(ref h));
            _hLo = BinaryPrimitives.ReadUInt64BigEndian(AsBytes(ref h)[8..]);
        }
    }

    public bool IsHardware => _hardware;

    /// <summary>GHASH_H(A || 0* || C || 0* || [len(A)]64 || [len(C)]64), returned in wire byte order.</summary>
    public Vector128<byte> Compute(ReadOnlySpan<byte> aad, ReadOnlySpan<byte> ciphertext)
    {
        if (_hardware) return Finish(Absorb(Absorb(Vector128<byte>.Zero, aad), ciphertext), aad.Length, ciphertext.Length);
        ulong hi = 0, lo = 0;
        AbsorbSoftware(ref hi, ref lo, aad);
        AbsorbSoftware(ref hi, ref lo, ciphertext);
        Vector128<byte> lengths = Lengths(aad.Length, ciphertext.Length);
        AbsorbSoftware(ref hi, ref lo, AsBytes(ref lengths));
        Span<byte> result = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(result, hi);
        BinaryPrimitives.WriteUInt64BigEndian(result[8..], lo);
        return Vector128.Create((ReadOnlySpan<byte>)result);
    }

    /// <summary>Folds in the length block and returns the hash in wire byte order (PCLMULQDQ path).</summary>
    private Vector128<byte> Finish(Vector128<byte> y, int aadLength, int ciphertextLength) =>
        Ssse3.Shuffle(Multiply(y ^ Ssse3.Shuffle(Lengths(aadLength, ciphertextLength), ByteReverse), _h1), ByteReverse);

    private static Vector128<byte> Lengths(int aadLength, int ciphertextLength) => Vector128.Create(
        BinaryPrimitives.ReverseEndianness((ulong)aadLength * 8),
        BinaryPrimitives.ReverseEndianness((ulong)ciphertextLength * 8)).AsByte();

    /// <summary>Absorbs <paramref name="data"/>, zero-padded to a block (PCLMULQDQ path).</summary>
    private Vector128<byte> Absorb(Vector128<byte> y, ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length, offset = 0;
        while (length - offset >= Aggregate * 16)
        {
            y = Absorb8(y, ref Unsafe.Add(ref p, offset));
            offset += Aggregate * 16;
        }
        while (length - offset >= 16)
        {
            y = Multiply(y ^ Ssse3.Shuffle(Vector128.LoadUnsafe(ref p, offset), ByteReverse), _h1);
            offset += 16;
        }
        if (offset < length)
        {
            Span<byte> last = stackalloc byte[16];
            last.Clear();
            data[(int)offset..].CopyTo(last);
            y = Multiply(y ^ Ssse3.Shuffle(Vector128.Create((ReadOnlySpan<byte>)last), ByteReverse), _h1);
        }
        return y;
    }

    /// <summary>Absorbs exactly eight blocks at <paramref name="p"/>: (y ^ x0)·H^8 ^ x1·H^7 ^ ... ^ x7·H, reduced once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector128<byte> Absorb8(Vector128<byte> y, ref byte p)
    {
        ref Vector128<ulong> powers = ref MemoryMarshal.GetArrayDataReference(_powers);
        ref Vector128<ulong> karatsuba = ref MemoryMarshal.GetArrayDataReference(_karatsuba);
        Vector128<ulong> lo = default, hi = default, mid = default;
        Accumulate(ref lo, ref hi, ref mid, Ssse3.Shuffle(Vector128.LoadUnsafe(ref p), ByteReverse) ^ y, powers, karatsuba);
        for (int j = 1; j < Aggregate; j++)
        {
            Vector128<byte> x = Ssse3.Shuffle(Vector128.LoadUnsafe(ref p, (nuint)(16 * j)), ByteReverse);
            Accumulate(ref lo, ref hi, ref mid, x, Unsafe.Add(ref powers, j), Unsafe.Add(ref karatsuba, j));
        }
        mid ^= lo ^ hi;
        return Reduce(lo ^ Sse2.ShiftLeftLogical128BitLane(mid, 8), hi ^ Sse2.ShiftRightLogical128BitLane(mid, 8));
    }

    // Karatsuba: lo = a0·b0, hi = a1·b1, mid = (a0^a1)·(b0^b1); the caller folds mid ^ lo ^ hi into the middle.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref Vector128<ulong> lo, ref Vector128<ulong> hi, ref Vector128<ulong> mid,
        Vector128<byte> x, Vector128<ulong> h, Vector128<ulong> hKaratsuba)
    {
        Vector128<ulong> x64 = x.AsUInt64();
        lo ^= Pclmulqdq.CarrylessMultiply(x64, h, 0x00);
        hi ^= Pclmulqdq.CarrylessMultiply(x64, h, 0x11);
        mid ^= Pclmulqdq.CarrylessMultiply(x64 ^ SwapHalves(x64), hKaratsuba, 0x00);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> SwapHalves(Vector128<ulong> v) => Sse2.Shuffle(v.AsUInt32(), 0x4E).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Multiply(Vector128<byte> a, Vector128<byte> b)
    {
        Clmul(a, b, out Vector128<ulong> lo, out Vector128<ulong> hi);
        return Reduce(lo, hi);
    }

    // 128x128 -> 256-bit carry-less product (schoolbook, four PCLMULQDQ).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clmul(Vector128<byte> a, Vector128<byte> b, out Vector128<ulong> lo, out Vector128<ulong> hi)
    {
        Vector128<ulong> a64 = a.AsUInt64(), b64 = b.AsUInt64();
        Vector128<ulong> l = Pclmulqdq.CarrylessMultiply(a64, b64, 0x00);
        Vector128<ulong> h = Pclmulqdq.CarrylessMultiply(a64, b64, 0x11);
        Vector128<ulong> m = Pclmulqdq.CarrylessMultiply(a64, b64, 0x10) ^ Pclmulqdq.CarrylessMultiply(a64, b64, 0x01);
        lo = l ^ Sse2.ShiftLeftLogical128BitLane(m, 8);
        hi = h ^ Sse2.ShiftRightLogical128BitLane(m, 8);
    }

    // Shift the reflected 256-bit product left by one, then reduce modulo x^128 + x^7 + x^2 + x + 1
    // (Gueron and Kounavis, "Intel Carry-Less Multiplication Instruction and its Usage for Computing the GCM Mode", §4).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Reduce(Vector128<ulong> lo64, Vector128<ulong> hi64)
    {
        Vector128<uint> lo = lo64.AsUInt32(), hi = hi64.AsUInt32();
        Vector128<uint> carryLo = Sse2.ShiftRightLogical(lo, 31);
        Vector128<uint> carryHi = Sse2.ShiftRightLogical(hi, 31);
        lo = Sse2.ShiftLeftLogical(lo, 1);
        hi = Sse2.ShiftLeftLogical(hi, 1);
        Vector128<uint> crossing = Sse2.ShiftRightLogical128BitLane(carryLo, 12);
        carryHi = Sse2.ShiftLeftLogical128BitLane(carryHi, 4);
        carryLo = Sse2.ShiftLeftLogical128BitLane(carryLo, 4);
        lo |= carryLo;
        hi |= carryHi | crossing;

        Vector128<uint> t = Sse2.ShiftLeftLogical(lo, 31) ^ Sse2.ShiftLeftLogical(lo, 30) ^ Sse2.ShiftLeftLogical(lo, 25);
        Vector128<uint> tHigh = Sse2.ShiftRightLogical128BitLane(t, 4);
        t = Sse2.ShiftLeftLogical128BitLane(t, 12);
        lo ^= t;
        Vector128<uint> u = Sse2.ShiftRightLogical(lo, 1) ^ Sse2.ShiftRightLogical(lo, 2) ^ Sse2.ShiftRightLogical(lo, 7) ^ tHigh;
        lo ^= u;
        return (hi ^ lo).AsByte();
    }

    // Bitwise multiply of SP 800-38D §6.3 Algorithm 1, without data-dependent branches.
    private void AbsorbSoftware(ref ulong yHi, ref ulong yLo, ReadOnlySpan<byte> data)
    {
        Span<byte> block = stackalloc byte[16];
        for (int offset = 0; offset < data.Length; offset += 16)
        {
            block.Clear();
            data.Slice(offset, Math.Min(16, data.Length - offset)).CopyTo(block);
            ulong xHi = yHi ^ BinaryPrimitives.ReadUInt64BigEndian(block);
            ulong xLo = yLo ^ BinaryPrimitives.ReadUInt64BigEndian(block[8..]);
            ulong zHi = 0, zLo = 0, vHi = _hHi, vLo = _hLo;
            for (int i = 0; i < 128; i++)
            {
                ulong bit = i < 64 ? (xHi >> (63 - i)) & 1 : (xLo >> (127 - i)) & 1;
                ulong mask = 0UL - bit;
                zHi ^= vHi & mask;
                zLo ^= vLo & mask;
                ulong lsb = 0UL - (vLo & 1);
                vLo = (vLo >> 1) | (vHi << 63);
                vHi = (vHi >> 1) ^ (0xE100000000000000UL & lsb);
            }
            yHi = zHi;
            yLo = zLo;
        }
    }

    private static Span<byte> AsBytes(ref Vector128<byte> v) => MemoryMarshal.CreateSpan(ref Unsafe.As<Vector128<byte>, byte>(ref v), 16);
}
