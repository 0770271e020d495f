using System.Buffers.Binary;

namespace Engine.Codec.Rtmp;

/// <summary>
/// The client side of the plain RTMP handshake (RTMP 1.0 §5.2, no digest), which nginx-rtmp, SRS
/// and others accept: C0 C1 out, S0 S1 in (C2 echoes S1), S2 in.
/// </summary>
internal sealed class RtmpClientHandshake
{
    public const int Size = 1536;
    private int _read; // bytes of S0 S1 S2 consumed

    public bool HasS1 => _read > 0;
    public bool IsDone => _read == 1 + 2 * Size;

    /// <summary>C0 and C1.</summary>
    public static void WriteC0C1(ByteBuffer output, uint epochMillis)
    {
        var c = output.Reserve(1 + Size);
        c[0] = 3;
        BinaryPrimitives.WriteUInt32BigEndian(c[1..], epochMillis);
        c.Slice(5, 4).Clear(); // zero version: the plain handshake
        System.Security.Cryptography.RandomNumberGenerator.Fill(c.Slice(9, Size - 8));
    }

    /// <summary>
    /// Reads S0 S1 (writing C2 to <paramref name="output"/>) or S2 from the front of
    /// <paramref name="s"/>: the bytes consumed, 0 when more are needed, -1 with
    /// <paramref name="error"/> when the server is not RTMP 3.
    /// </summary>
    public int Read(ReadOnlySpan<byte> s, ByteBuffer output, out string? error)
    {
        error = null;
        if (_read == 0)
        {
            if (s.Length < 1 + Size)
                return 0;
            if (s[0] != 3)
            {
                error = $"RTMP handshake: server version {s[0]}, not 3";
                return -1;
            }
            output.Append(s.Slice(1, Size)); // C2 echoes S1
            _read = 1 + Size;
            return _read;
        }
        if (IsDone || s.Length < Size)
            return 0;
        _read += Size; // S2 echoes C1; servers differ in what they put there, so it is not checked
        return Size;
    }
}
