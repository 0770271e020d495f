using System.Buffers.Binary;

namespace Engine.Ice.Turn;

/// <summary>
/// Splits a TURN-over-TCP/TLS byte stream into the messages <see cref="TurnServer"/> takes: STUN
/// messages (20 + length bytes) and ChannelData (4 + length, padded to 4 bytes, RFC 8656 §12.5).
/// </summary>
public static class TurnStreamFraming
{
    /// <summary>
    /// The length of the first message in <paramref name="buffer"/>: 0 when more bytes are needed,
    /// -1 when the stream is not TURN (the host closes the connection; there is no resync).
    /// </summary>
    public static int GetFrameLength(ReadOnlySpan<byte> buffer) => GetFrameLength(buffer, 0x4FFF);

    /// <summary>As above, with channels up to <paramref name="maxChannelNumber"/> (0x7FFF on a listener that takes RFC 5766's range).</summary>
    public static int GetFrameLength(ReadOnlySpan<byte> buffer, ushort maxChannelNumber)
    {
        if (buffer.Length == 0)
            return 0;
        int kind = buffer[0] & 0xC0;
        if (kind == 0x40 && buffer[0] > maxChannelNumber >> 8)
            return -1; // 0x5000-0x7FFF are reserved channel numbers (RFC 8656 §12)
        if (kind != 0x00 && kind != 0x40)
            return -1;
        if (buffer.Length < 4)
            return 0;
        int length = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
        int frame;
        if (kind == 0x40)
        {
            frame = (4 + length + 3) & ~3;
        }
        else
        {
            if ((length & 3) != 0)
                return -1; // RFC 8489 §5: STUN lengths are multiples of 4
            frame = StunMessageView.HeaderLength + length;
            if (buffer.Length >= 8 && BinaryPrimitives.ReadUInt32BigEndian(buffer[4..]) != StunMessageView.MagicCookie)
                return -1;
        }
        return buffer.Length >= frame ? frame : 0;
    }
}
