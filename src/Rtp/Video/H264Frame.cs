namespace Engine.Rtp.Video;

/// <summary>
/// One complete H.264 access unit from the depacketizer, as AVCC (each NAL unit behind a 4-byte
/// big-endian length, the layout FLV and MP4 use). A view: valid until the depacketizer's next Push.
/// </summary>
public readonly ref struct H264Frame
{
    public H264Frame(ReadOnlySpan<byte> avcc, uint rtpTimestamp, bool isKeyframe, int nalCount)
    {
        Avcc = avcc;
        RtpTimestamp = rtpTimestamp;
        IsKeyframe = isKeyframe;
        NalCount = nalCount;
    }

    public ReadOnlySpan<byte> Avcc { get; }
    public uint RtpTimestamp { get; }
    /// <summary>Holds an IDR slice: decoding can start here.</summary>
    public bool IsKeyframe { get; }
    public int NalCount { get; }

    public H264NalEnumerator GetEnumerator() => new(Avcc);

    /// <summary>Bytes needed for the Annex B form (4-byte start codes instead of lengths): the same as AVCC.</summary>
    public int AnnexBLength => Avcc.Length;

    /// <summary>Writes the Annex B byte stream (what decoders and .h264 files take).</summary>
    public int WriteAnnexB(Span<byte> destination)
    {
        if (destination.Length < Avcc.Length)
            return -1;
        int o = 0;
        foreach (var nal in this)
        {
            destination[o] = 0; destination[o + 1] = 0; destination[o + 2] = 0; destination[o + 3] = 1;
            nal.CopyTo(destination[(o + 4)..]);
            o += 4 + nal.Length;
        }
        return o;
    }
}
