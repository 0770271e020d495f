using System.Buffers.Binary;

namespace Engine.Codec;

/// <summary>H.264 byte-format helpers: AVCC (4-byte lengths, as FLV carries it) and Annex B, and the avcC record (ISO 14496-15 §5.3.3.1).</summary>
public static class AvcConfig
{
    public const int NalSps = 7, NalPps = 8, NalIdr = 5;

    /// <summary>The first SPS and PPS NAL units of an AVCC access unit.</summary>
    public static bool TryFindParameterSets(ReadOnlySpan<byte> avcc, out Range sps, out Range pps)
    {
        sps = pps = default;
        bool haveSps = false, havePps = false;
        for (int o = 0; o + 4 < avcc.Length;)
        {
            int n = (int)BinaryPrimitives.ReadUInt32BigEndian(avcc[o..]);
            if (n <= 0 || n > avcc.Length - o - 4)
                break;
            int type = avcc[o + 4] & 0x1F;
            if (type == NalSps && !haveSps && n >= 4)
            {
                sps = new Range(o + 4, o + 4 + n);
                haveSps = true;
            }
            else if (type == NalPps && !havePps)
            {
                pps = new Range(o + 4, o + 4 + n);
                havePps = true;
            }
            o += 4 + n;
        }
        return haveSps && havePps;
    }

    public static int AvcCLength(int spsLength, int ppsLength) => 11 + spsLength + ppsLength;

    /// <summary>Writes an AVCDecoderConfigurationRecord with one SPS and one PPS and 4-byte NAL lengths.</summary>
    public static int WriteAvcC(Span<byte> destination, ReadOnlySpan<byte> sps, ReadOnlySpan<byte> pps)
    {
        int length = AvcCLength(sps.Length, pps.Length);
        if (destination.Length < length || sps.Length < 4 || sps.Length > ushort.MaxValue || pps.Length > ushort.MaxValue)
            return -1;
        destination[0] = 1;
        destination[1] = sps[1]; // profile_idc
        destination[2] = sps[2]; // constraint flags
        destination[3] = sps[3]; // level_idc
        destination[4] = 0xFF;   // reserved + lengthSizeMinusOne = 3
        destination[5] = 0xE1;   // reserved + one SPS
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], (ushort)sps.Length);
        sps.CopyTo(destination[8..]);
        int o = 8 + sps.Length;
        destination[o] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(destination[(o + 1)..], (ushort)pps.Length);
        pps.CopyTo(destination[(o + 3)..]);
        return length;
    }

    /// <summary>The legacy rule for relaying without transcoding: profile_idc 66 with constraint_set1.</summary>
    public static bool IsConstrainedBaseline(ReadOnlySpan<byte> sps) => sps.Length >= 3 && sps[1] == 66 && (sps[2] & 0x40) != 0;

    /// <summary>
    /// Whether an SDP fmtp line's profile-level-id (RFC 6184 §8.1) is Constrained Baseline; true when
    /// the line names none (its default, 420010, is Baseline: but then the SPS decides).
    /// </summary>
    public static bool IsConstrainedBaselineFmtp(string formatParameters)
    {
        int i = formatParameters.IndexOf("profile-level-id=", StringComparison.OrdinalIgnoreCase);
        if (i < 0)
            return true;
        var id = formatParameters.AsSpan(i + 17);
        return id.Length >= 4
            && byte.TryParse(id[..2], System.Globalization.NumberStyles.HexNumber, null, out byte profile)
            && byte.TryParse(id[2..4], System.Globalization.NumberStyles.HexNumber, null, out byte iop)
            && profile == 66 && (iop & 0x40) != 0;
    }

    /// <summary>AVCC to Annex B in place-size (each 4-byte length becomes a 4-byte start code). Returns bytes written or -1.</summary>
    public static int AvccToAnnexB(ReadOnlySpan<byte> avcc, Span<byte> destination)
    {
        if (destination.Length < avcc.Length)
            return -1;
        int o = 0;
        while (o + 4 <= avcc.Length)
        {
            int n = (int)BinaryPrimitives.ReadUInt32BigEndian(avcc[o..]);
            if (n < 0 || n > avcc.Length - o - 4)
                return -1;
            BinaryPrimitives.WriteUInt32BigEndian(destination[o..], 1);
            avcc.Slice(o + 4, n).CopyTo(destination[(o + 4)..]);
            o += 4 + n;
        }
        return o == avcc.Length ? o : -1;
    }

    /// <summary>Worst-case AVCC size of an Annex B buffer (every 3-byte start code grows by one).</summary>
    public static int MaxAvccLength(int annexBLength) => annexBLength + annexBLength / 3 + 4;

    /// <summary>Annex B (3- or 4-byte start codes) to AVCC. Returns bytes written or -1.</summary>
    public static int AnnexBToAvcc(ReadOnlySpan<byte> annexB, Span<byte> destination)
    {
        int written = 0;
        int start = NextStartCode(annexB, 0, out int codeLength);
        while (start >= 0)
        {
            int nalStart = start + codeLength;
            int next = NextStartCode(annexB, nalStart, out int nextCodeLength);
            int nalEnd = next >= 0 ? next : annexB.Length;
            // Trailing zero bytes before the next start code belong to no NAL unit.
            while (nalEnd > nalStart && annexB[nalEnd - 1] == 0 && next >= 0)
                nalEnd--;
            int n = nalEnd - nalStart;
            if (n > 0)
            {
                if (written + 4 + n > destination.Length)
                    return -1;
                BinaryPrimitives.WriteUInt32BigEndian(destination[written..], (uint)n);
                annexB.Slice(nalStart, n).CopyTo(destination[(written + 4)..]);
                written += 4 + n;
            }
            start = next;
            codeLength = nextCodeLength;
        }
        return written;
    }

    private static int NextStartCode(ReadOnlySpan<byte> data, int from, out int codeLength)
    {
        for (int i = from; i + 3 <= data.Length; i++)
        {
            if (data[i] != 0 || data[i + 1] != 0)
                continue;
            if (data[i + 2] == 1)
            {
                codeLength = 3;
                return i;
            }
            if (data[i + 2] == 0 && i + 4 <= data.Length && data[i + 3] == 1)
            {
                codeLength = 4;
                return i;
            }
        }
        codeLength = 0;
        return -1;
    }
}
