using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Ice;

/// <summary>
/// CRC-32 as used by FINGERPRINT (RFC 8489 §14.7: the ISO 3309 / ITU-T V.42 CRC, reflected
/// polynomial 0xEDB88320). Slicing-by-16 over tables built once at type load; the table and input
/// reads skip bounds checks (every index is a byte plus a slice offset, every read is inside the
/// span): measured 32.9 ns for a 96-byte request against 51.4 ns for checked slicing-by-8
/// (bench/results/stun.md).
/// </summary>
internal static class StunCrc32
{
    private const uint Polynomial = 0xEDB88320;
    private const int Slices = 16;

    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        ref uint t = ref MemoryMarshal.GetArrayDataReference(Table);
        ref byte p = ref MemoryMarshal.GetReference(data);
        nint n = data.Length, i = 0;
        uint crc = 0xFFFFFFFF;
        for (; n - i >= 16; i += 16)
        {
            uint a = LittleEndian(ref p, i) ^ crc, b = LittleEndian(ref p, i + 4);
            uint c = LittleEndian(ref p, i + 8), d = LittleEndian(ref p, i + 12);
            crc = Word(ref t, 15, a) ^ Word(ref t, 11, b) ^ Word(ref t, 7, c) ^ Word(ref t, 3, d);
        }
        for (; i < n; i++)
            crc = Unsafe.Add(ref t, (nint)((crc ^ Unsafe.Add(ref p, i)) & 0xFF)) ^ (crc >> 8);
        return ~crc;
    }

    // The four bytes of w, little-endian, each advanced by its own table: slice s for the lowest byte.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Word(ref uint t, int s, uint w) =>
        Unsafe.Add(ref t, (s * 256) + (nint)(w & 0xFF)) ^ Unsafe.Add(ref t, ((s - 1) * 256) + (nint)((w >> 8) & 0xFF))
        ^ Unsafe.Add(ref t, ((s - 2) * 256) + (nint)((w >> 16) & 0xFF)) ^ Unsafe.Add(ref t, ((s - 3) * 256) + (nint)(w >> 24));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint LittleEndian(ref byte p, nint offset)
    {
        uint v = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, offset));
        return BitConverter.IsLittleEndian ? v : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);
    }

    private static uint[] BuildTable()
    {
        var t = new uint[Slices * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            t[i] = c;
        }
        // Table j advances a byte through j further zero bytes.
        for (int j = 1; j < Slices; j++)
            for (int i = 0; i < 256; i++)
                t[(j * 256) + i] = (t[((j - 1) * 256) + i] >> 8) ^ t[t[((j - 1) * 256) + i] & 0xFF];
        return t;
    }
}
