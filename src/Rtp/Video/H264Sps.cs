namespace Engine.Rtp.Video;

/// <summary>
/// The fields of a sequence parameter set (H.264 §7.3.2.1.1) a server needs: profile, level and
/// the picture size after cropping. VUI is not read.
/// </summary>
public readonly record struct H264Sps(
    byte ProfileIdc,
    byte ConstraintFlags,
    byte LevelIdc,
    uint SpsId,
    uint ChromaFormatIdc,
    uint MaxNumRefFrames,
    bool FrameMbsOnly,
    int Width,
    int Height)
{
    /// <summary>profile_idc 66 with constraint_set1: what the legacy gateway relays without transcoding.</summary>
    public bool IsConstrainedBaseline => ProfileIdc == 66 && (ConstraintFlags & 0x40) != 0;

    /// <summary>The SDP profile-level-id form (RFC 6184 §8.1), e.g. "42e01f".</summary>
    public string ProfileLevelId => $"{ProfileIdc:x2}{ConstraintFlags:x2}{LevelIdc:x2}";

    private const int MaxDimensionInMbs = 1024; // 16384 px: beyond any level in Table A-1

    /// <summary>Parses an SPS NAL unit including its one-byte NAL header.</summary>
    public static bool TryParse(ReadOnlySpan<byte> nal, out H264Sps sps) => TryParse(nal, out sps, out _);

    /// <summary>Also returns what slice headers need to be read (H.264 §7.3.3: frame_num's width).</summary>
    internal static bool TryParse(ReadOnlySpan<byte> nal, out H264Sps sps, out H264SliceParameters slice)
    {
        sps = default;
        slice = default;
        if (nal.Length < 4 || (nal[0] & 0x1F) != (byte)H264NalUnitType.Sps || (nal[0] & 0x80) != 0)
            return false;
        var r = new H264BitReader(nal[1..]);
        byte profile = (byte)r.ReadBits(8);
        byte constraints = (byte)r.ReadBits(8);
        byte level = (byte)r.ReadBits(8);
        uint spsId = r.ReadUe();
        if (spsId > 31)
            return false;
        uint chroma = 1;
        bool separateColourPlanes = false;
        if (profile is 100 or 110 or 122 or 244 or 44 or 83 or 86 or 118 or 128 or 138 or 139 or 134 or 135)
        {
            chroma = r.ReadUe();
            if (chroma > 3)
                return false;
            if (chroma == 3)
                separateColourPlanes = r.ReadBit() == 1;
            if (r.ReadUe() > 6 || r.ReadUe() > 6) // bit_depth_luma/chroma_minus8
                return false;
            r.ReadBit(); // qpprime_y_zero_transform_bypass_flag
            if (r.ReadBit() == 1) // seq_scaling_matrix_present_flag
            {
                int lists = chroma != 3 ? 8 : 12;
                for (int i = 0; i < lists && !r.Overrun; i++)
                {
                    if (r.ReadBit() == 1 && !SkipScalingList(ref r, i < 6 ? 16 : 64))
                        return false;
                }
            }
        }
        uint log2MaxFrameNumMinus4 = r.ReadUe();
        if (log2MaxFrameNumMinus4 > 12)
            return false;
        uint pocType = r.ReadUe();
        if (pocType == 0)
        {
            if (r.ReadUe() > 12) // log2_max_pic_order_cnt_lsb_minus4
                return false;
        }
        else if (pocType == 1)
        {
            r.ReadBit(); // delta_pic_order_always_zero_flag
            r.ReadSe();
            r.ReadSe();
            uint cycle = r.ReadUe();
            if (cycle > 255)
                return false;
            for (uint i = 0; i < cycle && !r.Overrun; i++)
                r.ReadSe();
        }
        else if (pocType != 2)
        {
            return false;
        }
        uint maxRefFrames = r.ReadUe();
        bool gapsAllowed = r.ReadBit() == 1; // gaps_in_frame_num_value_allowed_flag
        uint widthMbs = r.ReadUe() + 1;
        uint heightMapUnits = r.ReadUe() + 1;
        bool frameMbsOnly = r.ReadBit() == 1;
        if (!frameMbsOnly)
            r.ReadBit(); // mb_adaptive_frame_field_flag
        r.ReadBit(); // direct_8x8_inference_flag
        uint cropLeft = 0, cropRight = 0, cropTop = 0, cropBottom = 0;
        if (r.ReadBit() == 1)
        {
            cropLeft = r.ReadUe();
            cropRight = r.ReadUe();
            cropTop = r.ReadUe();
            cropBottom = r.ReadUe();
        }
        if (r.Overrun || widthMbs > MaxDimensionInMbs || heightMapUnits > MaxDimensionInMbs)
            return false;

        // §7.4.2.1.1: crop units depend on ChromaArrayType and field coding.
        uint chromaArrayType = separateColourPlanes ? 0 : chroma;
        uint subWidthC = chromaArrayType is 1 or 2 ? 2u : 1u;
        uint subHeightC = chromaArrayType == 1 ? 2u : 1u;
        uint cropUnitX = chromaArrayType == 0 ? 1 : subWidthC;
        uint cropUnitY = (chromaArrayType == 0 ? 1 : subHeightC) * (frameMbsOnly ? 1u : 2u);
        long width = widthMbs * 16L - cropUnitX * ((long)cropLeft + cropRight);
        long height = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16L - cropUnitY * ((long)cropTop + cropBottom);
        if (width <= 0 || height <= 0)
            return false;
        sps = new H264Sps(profile, constraints, level, spsId, chroma, maxRefFrames, frameMbsOnly, (int)width, (int)height);
        slice = new H264SliceParameters((int)log2MaxFrameNumMinus4 + 4, gapsAllowed, separateColourPlanes, frameMbsOnly);
        return true;
    }

    // H.264 §7.3.2.1.1.1
    private static bool SkipScalingList(ref H264BitReader r, int size)
    {
        int last = 8, next = 8;
        for (int j = 0; j < size; j++)
        {
            if (next != 0)
            {
                int delta = r.ReadSe();
                if (delta is < -128 or > 127)
                    return false;
                next = (last + delta + 256) % 256;
            }
            last = next == 0 ? last : next;
            if (r.Overrun)
                return false;
        }
        return true;
    }
}
