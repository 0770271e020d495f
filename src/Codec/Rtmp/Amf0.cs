using System.Buffers.Binary;
using System.Text;

namespace Engine.Codec.Rtmp;

/// <summary>AMF0 (the RTMP command encoding): what a publishing client writes and reads.</summary>
internal static class Amf0
{
    public const byte Number = 0, Boolean = 1, String = 2, Object = 3, Null = 5, Undefined = 6, EcmaArray = 8,
        ObjectEnd = 9, StrictArray = 10, Date = 11, LongString = 12;
    private const int MaxDepth = 16;

    public static void WriteNumber(ByteBuffer b, double value)
    {
        var s = b.Reserve(9);
        s[0] = Number;
        BinaryPrimitives.WriteDoubleBigEndian(s[1..], value);
    }

    public static void WriteBoolean(ByteBuffer b, bool value)
    {
        var s = b.Reserve(2);
        s[0] = Boolean;
        s[1] = value ? (byte)1 : (byte)0;
    }

    public static void WriteNull(ByteBuffer b) => b.Reserve(1)[0] = Null;

    public static void WriteString(ByteBuffer b, string value)
    {
        int n = Encoding.UTF8.GetByteCount(value);
        if (n > ushort.MaxValue)
            throw new ArgumentException("AMF0 string too long");
        var s = b.Reserve(3 + n);
        s[0] = String;
        BinaryPrimitives.WriteUInt16BigEndian(s[1..], (ushort)n);
        Encoding.UTF8.GetBytes(value, s[3..]);
    }

    /// <summary>An object property's name (the value follows).</summary>
    public static void WriteKey(ByteBuffer b, string key)
    {
        int n = Encoding.UTF8.GetByteCount(key);
        var s = b.Reserve(2 + n);
        BinaryPrimitives.WriteUInt16BigEndian(s, (ushort)n);
        Encoding.UTF8.GetBytes(key, s[2..]);
    }

    public static void WriteObjectStart(ByteBuffer b) => b.Reserve(1)[0] = Object;

    public static void WriteEcmaArrayStart(ByteBuffer b, int count)
    {
        var s = b.Reserve(5);
        s[0] = EcmaArray;
        BinaryPrimitives.WriteUInt32BigEndian(s[1..], (uint)count);
    }

    public static void WriteObjectEnd(ByteBuffer b)
    {
        var s = b.Reserve(3);
        s[0] = 0;
        s[1] = 0;
        s[2] = ObjectEnd;
    }

    /// <summary>Reads a string value; false when the next value is not one.</summary>
    public static bool TryReadString(ref ReadOnlySpan<byte> data, out string value)
    {
        value = "";
        if (data.Length < 3 || data[0] != String)
            return false;
        int n = BinaryPrimitives.ReadUInt16BigEndian(data[1..]);
        if (data.Length < 3 + n)
            return false;
        value = Encoding.UTF8.GetString(data.Slice(3, n));
        data = data[(3 + n)..];
        return true;
    }

    public static bool TryReadNumber(ref ReadOnlySpan<byte> data, out double value)
    {
        value = 0;
        if (data.Length < 9 || data[0] != Number)
            return false;
        value = BinaryPrimitives.ReadDoubleBigEndian(data[1..]);
        data = data[9..];
        return true;
    }

    /// <summary>Skips one value of any type; false when it is malformed or truncated.</summary>
    public static bool TrySkip(ref ReadOnlySpan<byte> data) => TrySkip(ref data, 0);

    private static bool TrySkip(ref ReadOnlySpan<byte> data, int depth)
    {
        if (data.IsEmpty || depth > MaxDepth)
            return false;
        byte type = data[0];
        data = data[1..];
        switch (type)
        {
            case Number: return Advance(ref data, 8);
            case Boolean: return Advance(ref data, 1);
            case String: return data.Length >= 2 && Advance(ref data, 2 + BinaryPrimitives.ReadUInt16BigEndian(data));
            case LongString: return data.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(data) <= int.MaxValue - 4
                && Advance(ref data, 4 + (int)BinaryPrimitives.ReadUInt32BigEndian(data));
            case Null: case Undefined: return true;
            case Date: return Advance(ref data, 10);
            case EcmaArray: return Advance(ref data, 4) && SkipProperties(ref data, depth);
            case Object: return SkipProperties(ref data, depth);
            case StrictArray:
            {
                if (data.Length < 4)
                    return false;
                uint count = BinaryPrimitives.ReadUInt32BigEndian(data);
                data = data[4..];
                for (uint i = 0; i < count; i++)
                    if (!TrySkip(ref data, depth + 1))
                        return false;
                return true;
            }
            default: return false;
        }
    }

    private static bool SkipProperties(ref ReadOnlySpan<byte> data, int depth) => ReadProperties(ref data, depth, default, default);

    /// <summary>
    /// The string properties named in <paramref name="keys"/> of an object (or ECMA array) value
    /// into <paramref name="values"/> (null when absent); the value is consumed.
    /// </summary>
    public static bool TryReadObjectStrings(ref ReadOnlySpan<byte> data, ReadOnlySpan<string> keys, Span<string?> values)
    {
        values.Clear();
        if (data.IsEmpty || (data[0] != Object && data[0] != EcmaArray))
            return false;
        int header = data[0] == Object ? 1 : 5;
        if (data.Length < header)
            return false;
        data = data[header..];
        return ReadProperties(ref data, 0, keys, values);
    }

    // Name/value pairs up to the object end; string values whose names are in keys are kept.
    private static bool ReadProperties(ref ReadOnlySpan<byte> data, int depth, ReadOnlySpan<string> keys, Span<string?> values)
    {
        while (true)
        {
            if (data.Length < 3)
                return false;
            int n = BinaryPrimitives.ReadUInt16BigEndian(data);
            if (n == 0 && data[2] == ObjectEnd)
            {
                data = data[3..];
                return true;
            }
            if (data.Length < 2 + n)
                return false;
            int k = keys.IsEmpty ? -1 : keys.IndexOf(Encoding.UTF8.GetString(data.Slice(2, n)));
            data = data[(2 + n)..];
            if (k >= 0 && !data.IsEmpty && data[0] == String)
            {
                if (!TryReadString(ref data, out string s))
                    return false;
                values[k] = s;
            }
            else if (!TrySkip(ref data, depth + 1))
                return false;
        }
    }

    private static bool Advance(ref ReadOnlySpan<byte> data, int n)
    {
        if (n < 0 || data.Length < n)
            return false;
        data = data[n..];
        return true;
    }
}
