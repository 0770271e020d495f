using Engine.Codec.Native;

namespace Engine.Codec;

/// <summary>Receives the AAC frames a transcoder produces (raw, no ADTS).</summary>
internal interface IAudioPacketSink
{
    void OnAudioPacket(ReadOnlySpan<byte> aac, long millis);
}

/// <summary>
/// Opus to AAC-LC (FFmpeg's native encoder, 48 kHz; 128 kb/s stereo, or 64 kb/s mono when the
/// publisher's Opus is mono, as browsers' microphones are: half the encoding work), resampling when
/// the decoder's output differs. Opus frames (10-60 ms) are re-cut into AAC's 1024 samples through a FIFO; a gap
/// or jump of more than 100 ms in the input timeline restarts the sample clock there.
/// </summary>
internal sealed unsafe class AudioTranscoder : IDisposable
{
    public const int SampleRate = 48000;
    private readonly int Channels;
    private readonly AvCodecContext _decoder, _encoder;
    private readonly AvPacket _in = new(), _out = new();
    private readonly AvFrame _decoded = new(), _chunk = new();
    private AvFrame? _resampled;
    private void* _fifo, _swr;
    private int _swrInFormat = -1, _swrInRate, _swrInChannels;
    private readonly int _frameSize;
    private long _samplesIn;          // samples written into the FIFO so far
    private long _samplesOut;         // samples handed to the encoder so far (its pts)
    private long _baseMillis = long.MinValue, _baseSample;
    private readonly void* _encoderPrivate;
    private readonly bool _releaseZeroPages;
    // The band-cost cache is cleared whole when its 16-bit generation wraps: give the pages back again now and then.
    private const int ReleaseEveryFrames = 4096;

    /// <summary>True when an Opus packet's TOC byte (RFC 6716 §3.1) says stereo.</summary>
    public static bool IsStereo(ReadOnlySpan<byte> opus) => opus.Length > 0 && (opus[0] & 0x04) != 0;

    public AudioTranscoder(int channels = 2, bool releaseZeroPages = true)
    {
        _releaseZeroPages = releaseZeroPages;
        if (channels is not (1 or 2))
            throw new ArgumentOutOfRangeException(nameof(channels));
        Channels = channels;
        _decoder = AvCodecContext.Open(AvCodec.avcodec_find_decoder(AvLayout.CodecIdOpus), "opus decoder", c =>
        {
            c.SetInt(AvLayout.CtxSampleRate, SampleRate);
            c.SetDefaultChannelLayout(Channels);
        });
        _encoder = AvCodecContext.Open(AvCodec.avcodec_find_encoder_by_name("aac"), "aac encoder", c =>
        {
            c.SetInt(AvLayout.CtxSampleRate, SampleRate);
            c.SetInt(AvLayout.CtxSampleFmt, AvLayout.SampleFmtFltp);
            c.SetDefaultChannelLayout(Channels);
            c.SetRational(AvLayout.CtxTimeBase, 1, SampleRate);
            c.SetBitRate(64_000 * Channels);
            c.SetOption("aac_coder", "fast", searchChildren: true);
            c.SetInt(AvLayout.CtxFlags, AvLayout.CodecFlagGlobalHeader);
        });
        _frameSize = _encoder.GetInt(AvLayout.CtxFrameSize);
        // The encoder's private context (its AVOptions child, 556 KB): about two thirds stay zero; see ZeroPages.
        _encoderPrivate = AvUtil.av_opt_child_next(_encoder.Ptr, null);
        if (releaseZeroPages)
            ZeroPages.Release(_encoderPrivate);
        AudioSpecificConfig = _encoder.Extradata.ToArray();
        _fifo = AvUtil.av_audio_fifo_alloc(AvLayout.SampleFmtFltp, Channels, 4096);
        if (_fifo == null || _frameSize <= 0)
            throw new FfmpegException("audio FIFO");
        var c = _chunk.Ptr;
        AvLayout.SetI32(c, AvLayout.FrameNbSamples, _frameSize);
        AvLayout.SetI32(c, AvLayout.FrameFormat, AvLayout.SampleFmtFltp);
        AvLayout.SetI32(c, AvLayout.FrameSampleRate, SampleRate);
        AvUtil.av_channel_layout_default((byte*)c + AvLayout.FrameChLayout, Channels);
        FfmpegLibrary.ThrowIfError(AvUtil.av_frame_get_buffer(c, 0), "audio frame buffer");
    }

    public int ChannelCount => Channels;
    internal void* EncoderPrivate => _encoderPrivate;

    /// <summary>The AAC AudioSpecificConfig for the FLV sequence header.</summary>
    public byte[] AudioSpecificConfig { get; }
    public long FramesDecoded { get; private set; }
    public long FramesEncoded { get; private set; }
    public long DecodeErrors { get; private set; }

    public void Transcode(ReadOnlySpan<byte> opus, long millis, IAudioPacketSink sink)
    {
        fixed (byte* p = opus)
        {
            _in.Borrow(p, opus.Length, millis, millis, 0, true);
            int r = _decoder.SendPacket(_in);
            _in.Unref();
            if (r < 0)
            {
                DecodeErrors++;
                return;
            }
        }
        while (_decoder.ReceiveFrame(_decoded) >= 0)
        {
            FramesDecoded++;
            var frame = Convert(_decoded);
            if (frame != null)
                Append(frame, millis, sink);
            _decoded.Unref();
        }
    }

    private AvFrame? Convert(AvFrame frame)
    {
        if (frame.Format == AvLayout.SampleFmtFltp && frame.SampleRate == SampleRate && frame.Channels == Channels)
            return frame;
        if (_swr == null || frame.Format != _swrInFormat || frame.SampleRate != _swrInRate || frame.Channels != _swrInChannels)
        {
            if (_swr != null)
            {
                void* old = _swr;
                SwResample.swr_free(&old);
                _swr = null;
            }
            byte* outLayout = stackalloc byte[AvLayout.ChannelLayoutSize];
            new Span<byte>(outLayout, AvLayout.ChannelLayoutSize).Clear();
            AvUtil.av_channel_layout_default(outLayout, Channels);
            void* swr = null;
            if (SwResample.swr_alloc_set_opts2(&swr, outLayout, AvLayout.SampleFmtFltp, SampleRate,
                    (byte*)frame.Ptr + AvLayout.FrameChLayout, frame.Format, frame.SampleRate, 0, null) < 0 || SwResample.swr_init(swr) < 0)
            {
                SwResample.swr_free(&swr);
                DecodeErrors++;
                return null;
            }
            _swr = swr;
            _swrInFormat = frame.Format;
            _swrInRate = frame.SampleRate;
            _swrInChannels = frame.Channels;
        }
        _resampled ??= new AvFrame();
        var o = _resampled.Ptr;
        int capacity = (int)((long)frame.Samples * SampleRate / Math.Max(1, frame.SampleRate)) + 256;
        if (_resampled.Samples < capacity)
        {
            _resampled.Unref();
            AvLayout.SetI32(o, AvLayout.FrameNbSamples, capacity);
            AvLayout.SetI32(o, AvLayout.FrameFormat, AvLayout.SampleFmtFltp);
            AvLayout.SetI32(o, AvLayout.FrameSampleRate, SampleRate);
            AvUtil.av_channel_layout_default((byte*)o + AvLayout.FrameChLayout, Channels);
            FfmpegLibrary.ThrowIfError(AvUtil.av_frame_get_buffer(o, 0), "resample buffer");
        }
        int n = SwResample.swr_convert(_swr, (byte**)_resampled.ExtendedData, capacity, (byte**)frame.ExtendedData, frame.Samples);
        if (n < 0)
        {
            DecodeErrors++;
            return null;
        }
        // nb_samples tells the FIFO how much is valid; the buffer stays sized for capacity.
        AvLayout.SetI32(o, AvLayout.FrameNbSamples, n);
        return _resampled;
    }

    private void Append(AvFrame frame, long millis, IAudioPacketSink sink)
    {
        long expected = _baseMillis == long.MinValue ? long.MinValue : _baseMillis + (_samplesIn - _baseSample) * 1000 / SampleRate;
        if (expected == long.MinValue || Math.Abs(millis - expected) > 100)
        {
            // Start, or a gap/jump: drop the partial chunk and restart the sample clock at this frame.
            AvUtil.av_audio_fifo_reset(_fifo);
            _samplesIn = _samplesOut = Math.Max(_samplesIn, _samplesOut) + _frameSize * 2;
            _baseMillis = millis;
            _baseSample = _samplesIn;
        }
        int samples = frame.Samples;
        if (AvUtil.av_audio_fifo_write(_fifo, frame.ExtendedData, samples) < samples)
        {
            DecodeErrors++;
            return;
        }
        _samplesIn += samples;
        while (AvUtil.av_audio_fifo_size(_fifo) >= _frameSize)
        {
            AvUtil.av_frame_make_writable(_chunk.Ptr);
            AvUtil.av_audio_fifo_read(_fifo, _chunk.ExtendedData, _frameSize);
            _chunk.Pts = _samplesOut;
            _samplesOut += _frameSize;
            if (_encoder.SendFrame(_chunk) < 0)
                continue;
            while (_encoder.ReceivePacket(_out) >= 0)
            {
                if (++FramesEncoded % ReleaseEveryFrames == 0 && _releaseZeroPages)
                    ZeroPages.Release(_encoderPrivate);
                long ms = _baseMillis + (_out.Pts - _baseSample) * 1000 / SampleRate;
                sink.OnAudioPacket(_out.Data, ms);
                _out.Unref();
            }
        }
    }

    public void Dispose()
    {
        _decoder.Dispose();
        _encoder.Dispose();
        if (_fifo != null)
        {
            AvUtil.av_audio_fifo_free(_fifo);
            _fifo = null;
        }
        if (_swr != null)
        {
            void* s = _swr;
            SwResample.swr_free(&s);
            _swr = null;
        }
        _resampled?.Dispose();
        _decoded.Dispose();
        _chunk.Dispose();
        _in.Dispose();
        _out.Dispose();
    }
}
