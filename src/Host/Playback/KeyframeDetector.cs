namespace Engine.Host.Playback;

/// <summary>Tells from one RTP payload whether a keyframe starts in it, so a new player can join there.</summary>
public static class KeyframeDetector
{
    /// <summary>
    /// H.264 (RFC 6184 §5.2): an SPS (7) or IDR (5) as a single NAL unit, inside a STAP-A (24), or
    /// starting in an FU-A (28). The SPS counts because browsers send SPS, PPS, IDR in that order.
    /// </summary>
    public static bool IsH264KeyframeStart(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
            return false;
        int type = payload[0] & 0x1f;
        if (type is 5 or 7)
            return true;
        if (type == 24)
        {
            // STAP-A: 16-bit size, then the NAL unit, repeated (RFC 6184 §5.7.1).
            int o = 1;
            for (int i = 0; i < 64 && o + 3 <= payload.Length; i++)
            {
                int size = (payload[o] << 8) | payload[o + 1];
                if (size == 0 || o + 2 + size > payload.Length)
                    return false;
                if ((payload[o + 2] & 0x1f) is 5 or 7)
                    return true;
                o += 2 + size;
            }
            return false;
        }
        // FU-A (RFC 6184 §5.8): the start bit and the original NAL type in the FU header.
        return type == 28 && payload.Length >= 2 && (payload[1] & 0x80) != 0 && (payload[1] & 0x1f) is 5 or 7;
    }

    /// <summary>VP8 (RFC 7741 §4.2, §4.3): the first packet of a partition 0 whose payload header has P = 0.</summary>
    public static bool IsVp8KeyframeStart(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
            return false;
        byte d = payload[0];
        if ((d & 0x10) == 0 || (d & 0x0f) != 0)
            return false; // not S=1 with PID 0
        int o = 1;
        if ((d & 0x80) != 0)
        {
            if (payload.Length <= o)
                return false;
            byte x = payload[o++];
            if ((x & 0x80) != 0) // I: picture id, 7 or 15 bits
            {
                if (payload.Length <= o)
                    return false;
                o += (payload[o] & 0x80) != 0 ? 2 : 1;
            }
            if ((x & 0x40) != 0) o++; // L: TL0PICIDX
            if ((x & 0x30) != 0) o++; // T or K: TID/KEYIDX
        }
        return o < payload.Length && (payload[o] & 0x01) == 0;
    }

    /// <summary>VP9 (RFC 9628 §4.2): B (start of frame) set and P (inter-picture predicted) clear.</summary>
    public static bool IsVp9KeyframeStart(ReadOnlySpan<byte> payload) =>
        !payload.IsEmpty && (payload[0] & 0x08) != 0 && (payload[0] & 0x40) == 0;

    public static bool IsKeyframeStart(string codec, ReadOnlySpan<byte> payload) => codec switch
    {
        "H264" => IsH264KeyframeStart(payload),
        "VP8" => IsVp8KeyframeStart(payload),
        "VP9" => IsVp9KeyframeStart(payload),
        _ => true,
    };
}
