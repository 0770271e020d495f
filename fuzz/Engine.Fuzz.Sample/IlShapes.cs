using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Engine.Fuzz.Sample;

/// <summary>
/// The IL shapes the rewriter must keep working: a <c>readonly ref struct</c> view and its
/// enumerator, spans and stackalloc, switch tables, try/catch/filter/finally (also inside loops
/// and with leave across handlers), values left on the stack across a branch (?:), iterators,
/// closures, generics, checked arithmetic. <c>fuzz/run.sh check</c> runs it plain and
/// instrumented over the same inputs and requires the same outcomes; it never throws.
/// </summary>
public static class IlShapes
{
    public static bool Run(ReadOnlySpan<byte> d)
    {
        int score = 0;
        if (TlvView.TryRead(d, out var view))
        {
            foreach (var item in view)
                score += Classify(item.Type) + item.Value.Length;
        }
        score += Guarded(d);
        score += d.Length > 3 ? (d[0] > d[1] ? d[2] : d[3]) : -1; // a value on the stack across a join
        score += SumOdd(d.Length > 16 ? d[..16].ToArray() : d.ToArray());
        score += Generic<int>.Twice(d.Length);
        Span<byte> tmp = stackalloc byte[16];
        d[..Math.Min(d.Length, 16)].CopyTo(tmp);
        score += tmp[0] ^ tmp[15];
        Func<int, int> add = x => x + score;
        score = add(1);
        Result = score;
        return (score & 1) == 0;
    }

    /// <summary>The last score, so a test can compare more than the bool.</summary>
    public static int Result { get; private set; }

    private static int Classify(byte type) => type switch
    {
        0 => 1,
        1 => 10,
        2 => 20,
        3 => 30,
        4 => 40,
        5 or 6 or 7 => 57,
        >= 100 and < 120 => 100,
        _ => -1,
    };

    private static int Guarded(ReadOnlySpan<byte> d)
    {
        int n = 0;
        for (int i = 0; i < d.Length && i < 8; i++)
        {
            try
            {
                try
                {
                    n += checked((sbyte)d[i]); // OverflowException above 127
                    if (d[i] == 7)
                        continue; // leave out of a protected region
                    if (d[i] == 9)
                        break;
                }
                catch (OverflowException) when (d[i] % 2 == 0)
                {
                    n += 1000;
                }
                catch (OverflowException)
                {
                    n += 2000;
                }
                finally
                {
                    n ^= i;
                }
            }
            catch (Exception)
            {
                n = -n;
            }
        }
        return n;
    }

    private static int SumOdd(byte[] bytes)
    {
        int s = 0;
        foreach (int v in Odd(bytes))
            s += v;
        return s;
    }

    private static IEnumerable<int> Odd(byte[] bytes)
    {
        foreach (byte b in bytes)
        {
            if ((b & 1) != 0)
                yield return b;
        }
    }

    private static class Generic<T> where T : struct
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static int Twice(T value) => value.GetHashCode() * 2;
    }
}

/// <summary>A TLV list viewed in place: [type:1][len:2 BE][value:len]...</summary>
public readonly ref struct TlvView
{
    private readonly ReadOnlySpan<byte> _bytes;

    private TlvView(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    public static bool TryRead(ReadOnlySpan<byte> d, out TlvView view)
    {
        view = default;
        int off = 0;
        while (off < d.Length)
        {
            if (d.Length - off < 3)
                return false;
            int len = BinaryPrimitives.ReadUInt16BigEndian(d[(off + 1)..]);
            if (len > d.Length - off - 3)
                return false;
            off += 3 + len;
        }
        view = new TlvView(d);
        return true;
    }

    public Enumerator GetEnumerator() => new(_bytes);

    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _bytes;
        private int _next;

        public Enumerator(ReadOnlySpan<byte> bytes)
        {
            _bytes = bytes;
            _next = 0;
            Current = default;
        }

        public TlvItem Current { get; private set; }

        public bool MoveNext()
        {
            if (_next >= _bytes.Length)
                return false;
            int len = BinaryPrimitives.ReadUInt16BigEndian(_bytes[(_next + 1)..]);
            Current = new TlvItem(_bytes[_next], _bytes.Slice(_next + 3, len));
            _next += 3 + len;
            return true;
        }
    }
}

public readonly ref struct TlvItem(byte type, ReadOnlySpan<byte> value)
{
    public byte Type { get; } = type;
    public ReadOnlySpan<byte> Value { get; } = value;
}
