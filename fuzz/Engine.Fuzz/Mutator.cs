using System.Buffers.Binary;
using Engine.Fuzz.Runtime;

namespace Engine.Fuzz;

/// <summary>
/// libFuzzer-style mutations, stacked 1-4 per input: bit flips, random bytes, arithmetic on
/// 8/16/32-bit integers of either endianness, interesting values, insert/erase/copy ranges,
/// dictionary tokens (the target's, the automatic one from the rewriter, and constants the
/// input was recently compared against), splicing with another corpus entry, and ASCII number edits.
/// </summary>
public sealed class Mutator(ulong seed, IReadOnlyList<byte[]> dictionary, bool useRecentCompares)
{
    private ulong _state = seed == 0 ? 0x9E3779B97F4A7C15UL : seed;

    private static readonly int[] Interesting =
        [0, 1, -1, 2, 4, 8, 16, 32, 64, 100, 127, 128, 255, 256, 512, 1000, 1024, 4096, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, int.MinValue, -128, -129];

    public ulong NextUlong()
    {
        // xorshift64*: fast and good enough to choose mutations
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return _state * 0x2545F4914F6CDD1DUL;
    }

    public int Next(int exclusiveMax) => exclusiveMax <= 1 ? 0 : (int)((NextUlong() >> 33) % (ulong)exclusiveMax);

    /// <summary>Mutates <paramref name="buf"/>[0..len) in place; returns the new length (&lt;= buf.Length).</summary>
    public int Mutate(byte[] buf, int len, IReadOnlyList<byte[]> corpus)
    {
        int count = 1 + (Next(4) == 0 ? Next(4) : 0);
        for (int i = 0; i < count; i++)
        {
            for (int attempt = 0; attempt < 8; attempt++)
            {
                int r = MutateOnce(buf, len, corpus);
                if (r >= 0)
                {
                    len = r;
                    break;
                }
            }
        }
        return len;
    }

    /// <summary>One mutation; -1 when it did not apply (e.g. erase on an empty input).</summary>
    private int MutateOnce(byte[] b, int len, IReadOnlyList<byte[]> corpus)
    {
        int cap = b.Length;
        switch (Next(15))
        {
            case 0: // flip a bit
                if (len == 0) return -1;
                b[Next(len)] ^= (byte)(1 << Next(8));
                return len;
            case 1: // random byte
                if (len == 0) return -1;
                b[Next(len)] = (byte)NextUlong();
                return len;
            case 2: // insert 1..4 random or repeated bytes
            {
                int n = 1 + Next(Next(8) == 0 ? 32 : 4);
                if (len + n > cap) return -1;
                int at = Next(len + 1);
                Array.Copy(b, at, b, at + n, len - at);
                byte fill = (byte)NextUlong();
                bool repeat = Next(2) == 0;
                for (int i = 0; i < n; i++) b[at + i] = repeat ? fill : (byte)NextUlong();
                return len + n;
            }
            case 3: // erase a range
            {
                if (len == 0) return -1;
                int n = 1 + Next(Math.Min(len, Next(4) == 0 ? 64 : 4));
                int at = Next(len - n + 1);
                Array.Copy(b, at + n, b, at, len - at - n);
                return len - n;
            }
            case 4: // add/subtract a small number to an 8/16/32-bit integer, either endianness
            {
                int width = 1 << Next(3);
                if (len < width) return -1;
                int at = Next(len - width + 1);
                int delta = 1 + Next(35);
                if (Next(2) == 0) delta = -delta;
                AddInteger(b.AsSpan(at, width), delta, Next(2) == 0);
                return len;
            }
            case 5: // interesting value
            {
                int width = 1 << Next(3);
                if (len < width) return -1;
                int at = Next(len - width + 1);
                WriteInteger(b.AsSpan(at, width), Interesting[Next(Interesting.Length)], Next(2) == 0);
                return len;
            }
            case 6: // copy a range over another place of the same input
            {
                if (len < 2) return -1;
                int n = 1 + Next(Math.Min(len - 1, 32));
                int from = Next(len - n + 1), to = Next(len - n + 1);
                Array.Copy(b, from, b, to, n);
                return len;
            }
            case 7: // dictionary token, inserted
            case 8: // dictionary token, overwriting
            {
                byte[]? token = PickToken();
                if (token == null) return -1;
                return PlaceToken(b, len, token, insert: Next(2) == 0);
            }
            case 9: // splice: our head + another corpus entry's tail (or an inserted chunk of it)
            {
                if (corpus.Count < 2) return -1;
                byte[] other = corpus[Next(corpus.Count)];
                if (other.Length == 0) return -1;
                if (Next(2) == 0)
                {
                    int cut = Next(len + 1), from = Next(other.Length);
                    int n = Math.Min(other.Length - from, cap - cut);
                    Array.Copy(other, from, b, cut, n);
                    return cut + n;
                }
                int take = 1 + Next(Math.Min(other.Length, 64));
                if (len + take > cap) return -1;
                int src = Next(other.Length - take + 1), dst = Next(len + 1);
                Array.Copy(b, dst, b, dst + take, len - dst);
                Array.Copy(other, src, b, dst, take);
                return len + take;
            }
            case 10: // shuffle a few bytes
            {
                if (len < 2) return -1;
                int n = Math.Min(len, 2 + Next(6));
                int at = Next(len - n + 1);
                for (int i = n - 1; i > 0; i--)
                {
                    int j = Next(i + 1);
                    (b[at + i], b[at + j]) = (b[at + j], b[at + i]);
                }
                return len;
            }
            case 11: // ASCII integer: find digits, replace them with a changed number
                return ChangeAsciiInteger(b, len);
            case 12: // a constant the code recently compared a (partly matching) value against
            {
                if (!useRecentCompares) return -1;
                int k = Coverage.Recent[Next(Coverage.RecentCount)];
                if (k == 0) return -1;
                Span<byte> t = stackalloc byte[4];
                if (Next(2) == 0) BinaryPrimitives.WriteInt32BigEndian(t, k);
                else BinaryPrimitives.WriteInt32LittleEndian(t, k);
                return PlaceToken(b, len, t.ToArray(), insert: false);
            }
            case 13: // truncate
                if (len == 0) return -1;
                return Next(len);
            default: // set a byte to a value seen elsewhere in the input
                if (len < 2) return -1;
                b[Next(len)] = b[Next(len)];
                return len;
        }
    }

    private byte[]? PickToken() => dictionary.Count == 0 ? null : dictionary[Next(dictionary.Count)];

    private int PlaceToken(byte[] b, int len, byte[] token, bool insert)
    {
        int cap = b.Length;
        if (insert)
        {
            if (len + token.Length > cap) return -1;
            int at = Next(len + 1);
            Array.Copy(b, at, b, at + token.Length, len - at);
            token.CopyTo(b, at);
            return len + token.Length;
        }
        if (token.Length > len) return -1;
        token.CopyTo(b, Next(len - token.Length + 1));
        return len;
    }

    private int ChangeAsciiInteger(byte[] b, int len)
    {
        if (len == 0) return -1;
        int start = Next(len);
        while (start < len && !IsDigit(b[start])) start++;
        if (start == len) return -1;
        int end = start;
        long v = 0;
        while (end < len && IsDigit(b[end]) && end - start < 18) v = v * 10 + (b[end++] - '0');
        v = Next(6) switch
        {
            0 => v + 1,
            1 => v - 1,
            2 => v / 2,
            3 => v * 2,
            4 => (long)NextUlong() % 100_000,
            _ => Interesting[Next(Interesting.Length)],
        };
        byte[] digits = System.Text.Encoding.ASCII.GetBytes(v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        int newLen = len - (end - start) + digits.Length;
        if (newLen > b.Length) return -1;
        Array.Copy(b, end, b, start + digits.Length, len - end);
        digits.CopyTo(b, start);
        return newLen;
    }

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static void AddInteger(Span<byte> s, int delta, bool bigEndian)
    {
        switch (s.Length)
        {
            case 1: s[0] = (byte)(s[0] + delta); break;
            case 2:
                ushort v16 = bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
                WriteInteger(s, (ushort)(v16 + delta), bigEndian);
                break;
            default:
                int v32 = bigEndian ? BinaryPrimitives.ReadInt32BigEndian(s) : BinaryPrimitives.ReadInt32LittleEndian(s);
                WriteInteger(s, v32 + delta, bigEndian);
                break;
        }
    }

    private static void WriteInteger(Span<byte> s, int v, bool bigEndian)
    {
        switch (s.Length)
        {
            case 1: s[0] = (byte)v; break;
            case 2:
                if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(s, (ushort)v);
                else BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)v);
                break;
            default:
                if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(s, v);
                else BinaryPrimitives.WriteInt32LittleEndian(s, v);
                break;
        }
    }

    /// <summary>Reads an AFL/libFuzzer dictionary: lines <c>"token"</c> or <c>name="token"</c>, <c>\xNN</c>, <c>\\</c>, <c>\"</c>.</summary>
    public static List<byte[]> ParseDictionary(IEnumerable<string> lines)
    {
        var result = new List<byte[]>();
        foreach (string raw in lines)
        {
            string line = raw.Trim();
            int q1 = line.IndexOf('"'), q2 = line.LastIndexOf('"');
            if (line.StartsWith('#') || q1 < 0 || q2 <= q1)
                continue;
            var bytes = new List<byte>();
            for (int i = q1 + 1; i < q2; i++)
            {
                char c = line[i];
                if (c == '\\' && i + 1 < q2)
                {
                    char e = line[++i];
                    if (e == 'x' && i + 2 < q2 + 1 && i + 2 <= line.Length - 1)
                    {
                        bytes.Add(Convert.ToByte(line.Substring(i + 1, 2), 16));
                        i += 2;
                    }
                    else
                        bytes.Add((byte)e);
                }
                else
                    bytes.Add((byte)c);
            }
            if (bytes.Count > 0)
                result.Add(bytes.ToArray());
        }
        return result;
    }
}
