using System.Buffers.Binary;

namespace Engine.Ice;

/// <summary>
/// CRC-32 as used by FINGERPRINT (RFC 8489 §14.7: the ISO 3309 / ITU-T V.42 CRC, reflected
/// polynomial 0xEDB88320). Slicing-by-8 over tables built once at type load.
/// </summary>
internal static class StunCrc32
{
    private const uint Polynomial = 0xEDB88320;

    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint[] t = Table;
        uint crc = 0xFFFFFFFF;
        while (data.Length >= 8)
        {
            uint a = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            uint b = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[(7 * 256) + (a & 0xFF)] ^ t[(6 * 256) + ((a >> 8) & 0xFF)]
                ^ t[(5 * 256) + ((a >> 16) & 0xFF)] ^ t[(4 * 256) + (a >> 24)]
                ^ t[(3 * 256) + (b & 0xFF)] ^ t[(2 * 256) + ((b >> 8) & 0xFF)]
                ^ t[256 + ((b >> 16) & 0xFF)] ^ t[b >> 24];
            data = data[8..];
        }
        foreach (byte x in data)
            crc = t[(crc ^ x) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            t[i] = c;
        }
        // Table j advances a byte through j further zero bytes.
        for (int j = 1; j < 8; j++)
            for (int i = 0; i < 256; i++)
                t[(j * 256) + i] = (t[((j - 1) * 256) + i] >> 8) ^ t[t[((j - 1) * 256) + i] & 0xFF];
        return t;
    }
}
