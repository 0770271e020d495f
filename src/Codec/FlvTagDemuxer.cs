using System.Buffers;
using System.Buffers.Binary;

namespace Engine.Codec;

/// <summary>
/// FLV audio and video tag bodies (as RTMP carries them) to coded frames: AVC (E.4.3.1 of the FLV
/// 10.1 spec: frame type, AVCPacketType, composition time, then the avcC record or length-prefixed
/// NAL units) to Annex B and a NAL list; AAC (E.4.2.1: AACPacketType, then AudioSpecificConfig or a
/// raw frame). A new sequence header that differs from the last is reported as a change. Buffers
/// are kept and reused (grown from the shared pool), so steady demuxing allocates nothing. Bad
/// input is counted and dropped. Not thread-safe.
/// </summary>
internal sealed class FlvTagDemuxer : IDisposable
{
    public const int CodecAvc = 7, SoundFormatAac = 10;
    private const int MaxConfigLength = 64 * 1024, MaxParameterSets = 32;

    private byte[] _annexB = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private Range[] _nals = new Range[64];
    private readonly byte[] _avcC = new byte[MaxConfigLength];
    private readonly Range[] _parameterSets = new Range[2 * MaxParameterSets];
    private readonly byte[] _asc = new byte[256];
    private int _avcCLength = -1, _spsCount, _ppsCount, _ascLength = -1;
    private long _lastVideo = long.MinValue, _lastAudio = long.MinValue;

    /// <summary>Put the sequence header's SPS and PPS in front of a key frame that carries none (what a WebRTC packetizer and a decoder joining there need).</summary>
    public bool PrependParameterSets { get; set; } = true;

    public bool HasVideoConfig => _avcCLength >= 0;
    /// <summary>1, 2 or 4: the size of each NAL unit's length prefix (avcC lengthSizeMinusOne + 1).</summary>
    public int NalLengthSize { get; private set; }
    public int Profile { get; private set; }
    public int ProfileCompatibility { get; private set; }
    public int Level { get; private set; }
    public ReadOnlySpan<byte> AvcC => _avcCLength < 0 ? default : _avcC.AsSpan(0, _avcCLength);
    public ReadOnlySpan<byte> Sps => _spsCount == 0 ? default : _avcC.AsSpan()[_parameterSets[0]];
    public ReadOnlySpan<byte> Pps => _ppsCount == 0 ? default : _avcC.AsSpan()[_parameterSets[MaxParameterSets]];
    /// <summary>Bumped by every video sequence header that changes it.</summary>
    public int VideoConfigVersion { get; private set; }
    /// <summary>A frame with a non-zero composition offset arrived since the last video config: the stream reorders (B-frames).</summary>
    public bool HasBFrames { get; private set; }

    public bool HasAudioConfig => _ascLength >= 0;
    public AacAudioSpecificConfig AudioConfig { get; private set; }
    public ReadOnlySpan<byte> AudioSpecificConfig => _ascLength < 0 ? default : _asc.AsSpan(0, _ascLength);
    public int AudioConfigVersion { get; private set; }

    public long VideoFrames { get; private set; }
    public long AudioFrames { get; private set; }
    public long Malformed { get; private set; }
    public long FramesBeforeConfig { get; private set; }
    public long Unsupported { get; private set; }
    /// <summary>The last unsupported codec id seen (FLV CodecID or SoundFormat), -1 for an enhanced-RTMP header.</summary>
    public int LastUnsupportedCodec { get; private set; }

    public FlvDemuxResult DemuxVideo(uint millis, ReadOnlySpan<byte> tag, out FlvVideoFrame frame)
    {
        frame = default;
        if (tag.IsEmpty)
            return Count(FlvDemuxResult.Malformed);
        int frameType = tag[0] >> 4 & 0x0F, codec = tag[0] & 0x0F;
        if ((tag[0] & 0x80) != 0)
        {
            LastUnsupportedCodec = -1; // enhanced RTMP (IsExHeader): a FourCC follows
            return Count(FlvDemuxResult.Unsupported);
        }
        if (codec != CodecAvc || frameType == 5)
        {
            LastUnsupportedCodec = codec;
            return Count(FlvDemuxResult.Unsupported);
        }
        if (tag.Length < 5)
            return Count(FlvDemuxResult.Malformed);
        int packetType = tag[1];
        int composition = (tag[2] << 16 | tag[3] << 8 | tag[4]) << 8 >> 8; // SI24
        var data = tag[5..];
        switch (packetType)
        {
            case 0:
                return OnAvcC(data);
            case 2:
                return FlvDemuxResult.EndOfSequence;
            case 1:
                break;
            default:
                return Count(FlvDemuxResult.Malformed);
        }
        if (!HasVideoConfig)
            return Count(FlvDemuxResult.NoConfig);
        bool keyframe = frameType is 1 or 4;
        // Walk once to size and check, then write.
        int lengthSize = NalLengthSize, count = 0, payload = 0;
        bool hasSps = false;
        for (int o = 0; o < data.Length;)
        {
            if (data.Length - o < lengthSize)
                return Count(FlvDemuxResult.Malformed);
            int n = ReadLength(data[o..], lengthSize);
            o += lengthSize;
            if (n < 0 || n > data.Length - o)
                return Count(FlvDemuxResult.Malformed);
            if (n > 0)
            {
                hasSps |= (data[o] & 0x1F) == AvcConfig.NalSps;
                count++;
                payload += n;
            }
            o += n;
        }
        if (count == 0)
            return Count(FlvDemuxResult.Malformed);
        bool addSets = keyframe && !hasSps && PrependParameterSets && _spsCount > 0;
        int extraCount = 0, extraBytes = 0;
        if (addSets)
        {
            for (int i = 0; i < _spsCount; i++)
                extraBytes += 4 + _avcC.AsSpan()[_parameterSets[i]].Length;
            for (int i = 0; i < _ppsCount; i++)
                extraBytes += 4 + _avcC.AsSpan()[_parameterSets[MaxParameterSets + i]].Length;
            extraCount = _spsCount + _ppsCount;
        }
        int total = extraBytes + 4 * count + payload;
        if (_annexB.Length < total)
        {
            if (_annexB.Length > 0)
                ArrayPool<byte>.Shared.Return(_annexB);
            _annexB = ArrayPool<byte>.Shared.Rent(total);
        }
        if (_nals.Length < count + extraCount)
            _nals = new Range[Math.Max(_nals.Length * 2, count + extraCount)];
        var dst = _annexB.AsSpan();
        int w = 0, k = 0;
        if (addSets)
        {
            for (int i = 0; i < _spsCount; i++)
                Put(dst, ref w, ref k, _avcC.AsSpan()[_parameterSets[i]]);
            for (int i = 0; i < _ppsCount; i++)
                Put(dst, ref w, ref k, _avcC.AsSpan()[_parameterSets[MaxParameterSets + i]]);
        }
        for (int o = 0; o < data.Length;)
        {
            int n = ReadLength(data[o..], lengthSize);
            o += lengthSize;
            if (n > 0)
                Put(dst, ref w, ref k, data.Slice(o, n));
            o += n;
        }
        if (composition != 0)
            HasBFrames = true;
        VideoFrames++;
        frame = new FlvVideoFrame(Unwrap(ref _lastVideo, millis), composition, keyframe, _annexB.AsSpan(0, w), _nals.AsSpan(0, k), data.Length, addSets);
        return FlvDemuxResult.Frame;
    }

    public FlvDemuxResult DemuxAudio(uint millis, ReadOnlySpan<byte> tag, out FlvAudioFrame frame)
    {
        frame = default;
        if (tag.IsEmpty)
            return Count(FlvDemuxResult.Malformed);
        int format = tag[0] >> 4;
        if (format != SoundFormatAac)
        {
            LastUnsupportedCodec = format;
            return Count(FlvDemuxResult.Unsupported);
        }
        if (tag.Length < 2)
            return Count(FlvDemuxResult.Malformed);
        var data = tag[2..];
        if (tag[1] == 0)
        {
            if (data.Length > _asc.Length || !AacAudioSpecificConfig.TryParse(data, out var config))
                return Count(FlvDemuxResult.Malformed);
            if (_ascLength >= 0 && data.SequenceEqual(_asc.AsSpan(0, _ascLength)))
                return FlvDemuxResult.ConfigRepeated;
            bool first = _ascLength < 0;
            data.CopyTo(_asc);
            _ascLength = data.Length;
            AudioConfig = config;
            AudioConfigVersion++;
            return first ? FlvDemuxResult.Config : FlvDemuxResult.ConfigChanged;
        }
        if (tag[1] != 1 || data.IsEmpty)
            return Count(FlvDemuxResult.Malformed);
        if (!HasAudioConfig)
            return Count(FlvDemuxResult.NoConfig);
        AudioFrames++;
        frame = new FlvAudioFrame(Unwrap(ref _lastAudio, millis), data);
        return FlvDemuxResult.Frame;
    }

    public void Dispose()
    {
        var a = _annexB;
        _annexB = [];
        if (a.Length > 0)
            ArrayPool<byte>.Shared.Return(a);
    }

    // ISO 14496-15 §5.3.3.1: AVCDecoderConfigurationRecord.
    private FlvDemuxResult OnAvcC(ReadOnlySpan<byte> c)
    {
        if (c.Length < 7 || c.Length > MaxConfigLength || c[0] != 1)
            return Count(FlvDemuxResult.Malformed);
        int lengthSize = (c[4] & 3) + 1;
        if (lengthSize == 3)
            return Count(FlvDemuxResult.Malformed);
        Span<Range> sets = stackalloc Range[2 * MaxParameterSets];
        int o = 5, spsCount = c[o++] & 0x1F, ppsCount = 0;
        for (int i = 0; i < spsCount; i++)
            if (!ReadSet(c, ref o, out sets[i]) || (c[sets[i].Start.Value] & 0x1F) != AvcConfig.NalSps)
                return Count(FlvDemuxResult.Malformed);
        if (o >= c.Length)
            return Count(FlvDemuxResult.Malformed);
        ppsCount = c[o++];
        if (ppsCount > MaxParameterSets)
            return Count(FlvDemuxResult.Malformed);
        for (int i = 0; i < ppsCount; i++)
            if (!ReadSet(c, ref o, out sets[MaxParameterSets + i]))
                return Count(FlvDemuxResult.Malformed);
        // Profiles 100+ may append chroma and bit-depth fields; they are kept in the record, not read.
        if (_avcCLength >= 0 && c.SequenceEqual(_avcC.AsSpan(0, _avcCLength)))
            return FlvDemuxResult.ConfigRepeated;
        bool first = _avcCLength < 0;
        c.CopyTo(_avcC);
        _avcCLength = c.Length;
        sets.CopyTo(_parameterSets);
        _spsCount = spsCount;
        _ppsCount = ppsCount;
        NalLengthSize = lengthSize;
        Profile = c[1];
        ProfileCompatibility = c[2];
        Level = c[3];
        HasBFrames = false;
        VideoConfigVersion++;
        return first ? FlvDemuxResult.Config : FlvDemuxResult.ConfigChanged;
    }

    private static bool ReadSet(ReadOnlySpan<byte> c, ref int o, out Range set)
    {
        set = default;
        if (c.Length - o < 2)
            return false;
        int n = BinaryPrimitives.ReadUInt16BigEndian(c[o..]);
        o += 2;
        if (n == 0 || n > c.Length - o)
            return false;
        set = new Range(o, o + n);
        o += n;
        return true;
    }

    private void Put(Span<byte> dst, ref int w, ref int k, ReadOnlySpan<byte> nal)
    {
        BinaryPrimitives.WriteUInt32BigEndian(dst[w..], 1);
        nal.CopyTo(dst[(w + 4)..]);
        _nals[k++] = new Range(w + 4, w + 4 + nal.Length);
        w += 4 + nal.Length;
    }

    // -1 for a 4-byte length past int.MaxValue (then past any tag).
    private static int ReadLength(ReadOnlySpan<byte> d, int size) => size switch
    {
        1 => d[0],
        2 => BinaryPrimitives.ReadUInt16BigEndian(d),
        _ => BinaryPrimitives.ReadUInt32BigEndian(d) is uint n && n <= int.MaxValue ? (int)n : -1,
    };

    // 32-bit millisecond timestamps: a step back of more than half the range is a wrap forward.
    private static long Unwrap(ref long last, uint millis)
    {
        last = last == long.MinValue ? millis : last + (int)(millis - (uint)last);
        return last;
    }

    private FlvDemuxResult Count(FlvDemuxResult r)
    {
        switch (r)
        {
            case FlvDemuxResult.Malformed: Malformed++; break;
            case FlvDemuxResult.NoConfig: FramesBeforeConfig++; break;
            case FlvDemuxResult.Unsupported: Unsupported++; break;
        }
        return r;
    }
}
