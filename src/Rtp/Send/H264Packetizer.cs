namespace Engine.Rtp.Send;

/// <summary>
/// Splits H.264 access units given in Annex B (start codes) into RTP payloads (RFC 6184,
/// packetization-mode 1): a NAL unit that fits is sent alone (§5.6), a larger one as FU-A
/// fragments (§5.8), and before every IDR the SPS and PPS go first in one STAP-A (§5.7.1). The
/// last SPS and PPS seen are kept, so an IDR access unit that lacks them still gets them. Access
/// unit delimiters and filler data are dropped (they mean nothing inside RTP). Storage is
/// allocated once; <see cref="Begin"/> and the cursor allocate nothing.
/// </summary>
public sealed class H264Packetizer
{
    /// <summary>
    /// Keeps an RTP packet within a 1200-byte MTU: 12 header + 12 extension block (abs-send-time,
    /// transport-cc) + 2 RTX original sequence number + 10 SRTP auth tag.
    /// </summary>
    public const int DefaultMaxPayloadSize = 1200 - 12 - 12 - 2 - 10;

    /// <summary>Largest SPS/PPS kept for repetition; a larger one is sent but not cached.</summary>
    public const int MaxParameterSetSize = 512;

    internal readonly byte[] SpsCache = new byte[MaxParameterSetSize];
    internal readonly byte[] PpsCache = new byte[MaxParameterSetSize];
    internal int SpsLength;
    internal int PpsLength;

    public H264Packetizer(int maxPayloadSize = DefaultMaxPayloadSize)
    {
        // FU-A needs 2 header bytes plus at least one byte of NAL.
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadSize, 3);
        MaxPayloadSize = maxPayloadSize;
    }

    public int MaxPayloadSize { get; }
    public long AccessUnits { get; internal set; }
    /// <summary>IDR access units that carried no SPS/PPS and got the cached ones.</summary>
    public long ParameterSetsRepeated { get; internal set; }
    /// <summary>IDR access units sent without SPS or PPS because none had been seen yet.</summary>
    public long IdrWithoutParameterSets { get; internal set; }
    /// <summary>Parameter sets over <see cref="MaxParameterSetSize"/>, sent but not cached.</summary>
    public long ParameterSetsTooLarge { get; internal set; }

    /// <summary>
    /// Starts one access unit; pull its payloads with <see cref="H264PacketizerCursor.TryNext"/>.
    /// <paramref name="annexB"/> must stay unchanged until the cursor is done.
    /// </summary>
    public H264PacketizerCursor Begin(ReadOnlySpan<byte> annexB) => new(this, annexB);

    internal static bool IsDropped(int type) => type is 9 or 12 or 0;

    /// <summary>Finds the NAL unit after <paramref name="position"/>: the bytes after a 00 00 01 up to the next start code, trailing zeros trimmed (H.264 §B.2).</summary>
    internal static bool NextNal(ReadOnlySpan<byte> data, scoped ref int position, out ReadOnlySpan<byte> nal)
    {
        ReadOnlySpan<byte> startCode = [0, 0, 1];
        while (position < data.Length)
        {
            int s = data[position..].IndexOf(startCode);
            if (s < 0)
                break;
            int begin = position + s + 3;
            int e = data[begin..].IndexOf(startCode);
            int end = e < 0 ? data.Length : begin + e;
            position = end;
            while (end > begin && data[end - 1] == 0)
                end--;
            if (end > begin)
            {
                nal = data[begin..end];
                return true;
            }
        }
        position = data.Length;
        nal = default;
        return false;
    }
}
