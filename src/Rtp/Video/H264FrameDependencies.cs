using System.Numerics;

namespace Engine.Rtp.Video;

/// <summary>
/// H.264 decodability from the slice header (H.264 §7.4.3): frame_num of a picture is the previous
/// reference picture's plus one (mod MaxFrameNum), so a whole picture whose frame_num follows the
/// last delivered reference decodes whatever else was lost (padding, non-reference pictures with
/// nal_ref_idc 0); an IDR restarts the chain if its SPS/PPS were delivered. With
/// gaps_in_frame_num_value_allowed_flag, field pictures or a slice header we cannot read, the
/// verdict is Unknown (sequence continuity decides). Tables are allocated once.
/// </summary>
internal sealed class H264FrameDependencies : IFrameDependencies
{
    private readonly H264SliceParameters[] _sps = new H264SliceParameters[32];
    private readonly bool[] _spsDelivered = new bool[32];
    private readonly short[] _ppsSps = new short[256]; // PPS id -> SPS id, -1 unknown
    private readonly bool[] _ppsDelivered = new bool[256];
    private readonly ulong[] _framePps = new ulong[4]; // PPS ids carried by the current frame
    private uint _frameSps;
    private bool _frameHadSps, _frameHadPps, _anySpsDelivered, _anyPpsDelivered; // parsed or not

    // The current frame, from its VCL NAL units.
    private bool _sawVcl, _reference, _idr, _sliceRead, _parameterSetsKnown;
    private int _frameNum, _ppsId = -1, _spsId = -1;

    // The chain: the last delivered reference picture.
    private bool _hasReference;
    private int _prevRefFrameNum;

    public H264FrameDependencies() => _ppsSps.AsSpan().Fill(-1);

    public bool LayersBroken => false;

    public void BeginFrame()
    {
        _sawVcl = _reference = _idr = _sliceRead = _parameterSetsKnown = false;
        _ppsId = _spsId = -1;
        _frameSps = 0;
        _frameHadSps = _frameHadPps = false;
        _framePps.AsSpan().Clear();
    }

    /// <summary>
    /// The NAL unit type and nal_ref_idc of any VCL fragment (an FU-A repeats them in every
    /// fragment, RFC 6184 §5.8), so even a frame that lost its first packet says if it was a reference.
    /// </summary>
    public void OnVclHeader(byte nalHeader)
    {
        _sawVcl = true;
        if ((nalHeader & 0x60) != 0)
            _reference = true;
        if ((nalHeader & 0x1F) == (byte)H264NalUnitType.IdrSlice)
            _idr = true;
    }

    /// <summary>A complete SPS or PPS NAL unit (with its header).</summary>
    public void OnParameterSet(ReadOnlySpan<byte> nal)
    {
        if ((nal[0] & 0x1F) == (byte)H264NalUnitType.Sps)
        {
            _frameHadSps = true;
            if (H264Sps.TryParse(nal, out var sps, out var slice))
            {
                _sps[sps.SpsId] = slice;
                _frameSps |= 1u << (int)sps.SpsId;
            }
            return;
        }
        _frameHadPps = true;
        // H.264 §7.3.2.2: pic_parameter_set_id ue(v), seq_parameter_set_id ue(v).
        var r = new H264BitReader(nal[1..]);
        uint ppsId = r.ReadUe(), spsId = r.ReadUe();
        if (r.Overrun || ppsId > 255 || spsId > 31)
            return;
        _ppsSps[ppsId] = (short)spsId;
        _framePps[ppsId >> 6] |= 1UL << (int)(ppsId & 63);
    }

    /// <summary>
    /// The start of a slice NAL unit (its header byte, then at least the slice header's first bytes):
    /// reads first_mb_in_slice and, for the frame's first slice, frame_num (H.264 §7.3.3).
    /// Returns true when it begins a picture (first_mb_in_slice 0).
    /// </summary>
    public bool OnSliceStart(byte nalHeader, ReadOnlySpan<byte> sliceHeader)
    {
        OnVclHeader(nalHeader);
        var r = new H264BitReader(sliceHeader);
        uint firstMb = r.ReadUe();
        if (r.Overrun)
            return false;
        if (firstMb != 0 || _ppsId >= 0)
            return firstMb == 0;
        r.ReadUe(); // slice_type
        uint ppsId = r.ReadUe();
        if (r.Overrun || ppsId > 255)
            return true;
        _ppsId = (int)ppsId;
        _spsId = _ppsSps[ppsId];
        if (_spsId < 0 || !_sps[_spsId].IsValid)
            return true;
        _parameterSetsKnown = true;
        var sp = _sps[_spsId];
        if (sp.SeparateColourPlanes)
            r.ReadBits(2); // colour_plane_id
        int frameNum = (int)r.ReadBits(sp.Log2MaxFrameNum);
        if (!sp.FrameMbsOnly && r.ReadBit() == 1)
            return true; // field_pic_flag: pairs of fields share frame_num; left to continuity
        if (r.Overrun)
            return true;
        _frameNum = frameNum;
        _sliceRead = true;
        return true;
    }

    public FrameDependencyVerdict Judge(bool isKeyframe, long packetsLostBefore, bool chainBroken)
    {
        if (!_sawVcl)
            return FrameDependencyVerdict.Unknown;
        if (_idr)
        {
            if (ParameterSetsDelivered())
                return FrameDependencyVerdict.Decodable;
            // Parameter sets we could not read leave it to continuity; none at all cannot decode.
            bool anySeen = (_anySpsDelivered || _frameHadSps) && (_anyPpsDelivered || _frameHadPps);
            return anySeen && !_parameterSetsKnown ? FrameDependencyVerdict.Unknown : FrameDependencyVerdict.MissingParameterSets;
        }
        if (!_sliceRead)
            return FrameDependencyVerdict.Unknown;
        if (chainBroken)
            return FrameDependencyVerdict.MissingReference;
        if (!_hasReference)
            return FrameDependencyVerdict.Unknown;
        var sp = _sps[_spsId];
        int maxFrameNum = 1 << sp.Log2MaxFrameNum;
        // Fewer lost packets than MaxFrameNum cannot hide a whole wrap of frame_num.
        if (packetsLostBefore >= maxFrameNum)
            return FrameDependencyVerdict.Unknown;
        if (_frameNum == ((_prevRefFrameNum + 1) & (maxFrameNum - 1)))
            return FrameDependencyVerdict.Decodable;
        // With gaps allowed a jump may be the encoder's own (H.264 §8.2.5.2).
        return sp.GapsInFrameNumAllowed ? FrameDependencyVerdict.Unknown : FrameDependencyVerdict.MissingReference;
    }

    public void OnDelivered(bool isKeyframe)
    {
        _anySpsDelivered |= _frameHadSps;
        _anyPpsDelivered |= _frameHadPps;
        for (uint m = _frameSps; m != 0; m &= m - 1)
            _spsDelivered[BitOperations.TrailingZeroCount(m)] = true;
        for (int w = 0; w < _framePps.Length; w++)
        {
            for (ulong m = _framePps[w]; m != 0; m &= m - 1)
                _ppsDelivered[w * 64 + BitOperations.TrailingZeroCount(m)] = true;
        }
        if (!_sawVcl)
            return;
        if (_sliceRead && (_reference || _idr))
        {
            _hasReference = true;
            _prevRefFrameNum = _frameNum;
        }
        else if (!_sliceRead && (_reference || _idr))
        {
            _hasReference = false; // a reference we could not read: continuity decides until the next one we can
        }
    }

    public FrameLossImpact OnDropped() =>
        _sawVcl && !_reference && !_idr ? FrameLossImpact.NoDependents : FrameLossImpact.BreaksChain;

    private bool ParameterSetsDelivered()
    {
        if (!_parameterSetsKnown)
            return false;
        bool pps = _ppsDelivered[_ppsId] || (_framePps[_ppsId >> 6] & (1UL << (_ppsId & 63))) != 0;
        bool sps = _spsDelivered[_spsId] || (_frameSps & (1u << _spsId)) != 0;
        return pps && sps;
    }
}
