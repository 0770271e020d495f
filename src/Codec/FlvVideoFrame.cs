namespace Engine.Codec;

/// <summary>
/// One AVC access unit out of an FLV video tag, as Annex B (4-byte start codes) and as a list of
/// NAL units (ranges into <see cref="AnnexB"/>, start codes excluded). A view into the demuxer's
/// buffers: valid until its next call.
/// </summary>
internal readonly ref struct FlvVideoFrame
{
    private readonly ReadOnlySpan<Range> _nals;

    public FlvVideoFrame(long dtsMillis, int compositionMillis, bool keyframe, ReadOnlySpan<byte> annexB, ReadOnlySpan<Range> nals, int tagDataLength, bool parameterSetsAdded)
    {
        DtsMillis = dtsMillis;
        CompositionMillis = compositionMillis;
        Keyframe = keyframe;
        AnnexB = annexB;
        _nals = nals;
        TagDataLength = tagDataLength;
        ParameterSetsAdded = parameterSetsAdded;
    }

    /// <summary>Decode time: the tag's timestamp, unwrapped past 32 bits.</summary>
    public long DtsMillis { get; }
    /// <summary>The tag's composition time offset (SI24); non-zero means reordered frames (B-frames).</summary>
    public int CompositionMillis { get; }
    public long PtsMillis => DtsMillis + CompositionMillis;
    /// <summary>The FLV frame type says key frame (1) or generated key frame (4).</summary>
    public bool Keyframe { get; }
    public ReadOnlySpan<byte> AnnexB { get; }
    public int NalCount => _nals.Length;
    public ReadOnlySpan<byte> Nal(int index) => AnnexB[_nals[index]];
    /// <summary>The tag's AVCC bytes (its length-prefixed NAL units), as ffprobe counts a packet.</summary>
    public int TagDataLength { get; }
    /// <summary>The sequence header's SPS and PPS were put in front (a key frame that carried none).</summary>
    public bool ParameterSetsAdded { get; }
}
