using Engine.Codec.Native;

namespace Engine.Codec;

/// <summary>Receives the Opus packets a transcoder produces (one 20 ms frame each).</summary>
internal interface IOpusPacketSink
{
    void OnOpusPacket(ReadOnlySpan<byte> opus, long millis);
}

/// <summary>
/// AAC (from an RTMP source) to Opus 48 kHz with libopus: libavcodec's aac decoder, libswresample
/// to interleaved float at 48 kHz (mono stays mono, more than two channels are downmixed to stereo),
/// 20 ms frames cut through a FIFO. A gap or jump of more than 100 ms in the input timeline restarts
/// the sample clock there. Bad AAC is counted and dropped.
/// </summary>
internal sealed unsafe class OpusTranscoder : IDisposable
{
    public const int SampleRate = 48000, FrameSamples = 960;
    private const int SampleFmtFlt = 3, InputPadding = 64;
    private readonly int _channels;
    private readonly AvCodecContext _decoder, _encoder;
    private readonly AvPacket _in = new(), _out = new();
    private readonly AvFrame _decoded = new(), _chunk = new(), _resampled = new();
    private void* _fifo, _swr;
    private int _swrInFormat = -1, _swrInRate, _swrInChannels, _resampledCapacity;
    private long _samplesIn, _samplesOut, _baseMillis = long.MinValue, _baseSample;

    /// <summary>The Opus encoder's bitrate (bits per second of payload).</summary>
    public long BitRate { get; }

    /// <param name="audioSpecificConfig">The FLV AAC sequence header's payload (ISO 14496-3 §1.6.2.1).</param>
    public OpusTranscoder(ReadOnlySpan<byte> audioSpecificConfig, int bitRatePerChannel = 32_000)
    {
        if (!AacAudioSpecificConfig.TryParse(audioSpecificConfig, out var asc))
            throw new ArgumentException("not an AAC AudioSpecificConfig", nameof(audioSpecificConfig));
        _channels = asc.Channels == 1 ? 1 : 2;
        BitRate = (long)bitRatePerChannel * _channels;
        byte[] config = audioSpecificConfig.ToArray();
        _decoder = AvCodecContext.Open(AvCodec.avcodec_find_decoder(AvLayout.CodecIdAac), "aac decoder", c =>
        {
            // libavcodec frees extradata with the context: it must be av_malloc'ed and padded.
            byte* e = (byte*)AvUtil.av_malloc((nuint)(config.Length + InputPadding));
            if (e == null)
                throw new FfmpegException("aac decoder: extradata");
            var span = new Span<byte>(e, config.Length + InputPadding);
            span.Clear();
            config.CopyTo(span);
            AvLayout.SetPtr(c.Ptr, AvLayout.CtxExtradata, e);
            c.SetInt(AvLayout.CtxExtradataSize, config.Length);
        });
        _encoder = AvCodecContext.Open(AvCodec.avcodec_find_encoder_by_name("libopus"), "libopus encoder", c =>
        {
            c.SetInt(AvLayout.CtxSampleRate, SampleRate);
            c.SetInt(AvLayout.CtxSampleFmt, SampleFmtFlt);
            c.SetDefaultChannelLayout(_channels);
            c.SetRational(AvLayout.CtxTimeBase, 1, SampleRate);
            c.SetBitRate((long)bitRatePerChannel * _channels);
            c.SetOption("frame_duration", "20", searchChildren: true);
        });
        if (_encoder.GetInt(AvLayout.CtxFrameSize) != FrameSamples)
            throw new FfmpegException($"libopus encoder: frame size {_encoder.GetInt(AvLayout.CtxFrameSize)}, expected {FrameSamples}");
        _fifo = AvUtil.av_audio_fifo_alloc(SampleFmtFlt, _channels, 4096);
        if (_fifo == null)
            throw new FfmpegException("audio FIFO");
        var ch = _chunk.Ptr;
        AvLayout.SetI32(ch, AvLayout.FrameNbSamples, FrameSamples);
        AvLayout.SetI32(ch, AvLayout.FrameFormat, SampleFmtFlt);
        AvLayout.SetI32(ch, AvLayout.FrameSampleRate, SampleRate);
        AvUtil.av_channel_layout_default((byte*)ch + AvLayout.FrameChLayout, _channels);
        FfmpegLibrary.ThrowIfError(AvUtil.av_frame_get_buffer(ch, 0), "audio frame buffer");
    }

    /// <summary>1 or 2: the Opus stream's channels.</summary>
    public int Channels => _channels;
    public long FramesDecoded { get; private set; }
    public long FramesEncoded { get; private set; }
    public long DecodeErrors { get; private set; }

    /// <summary>One raw AAC frame (no ADTS) at the source's millisecond clock.</summary>
    public void Transcode(ReadOnlySpan<byte> aac, long millis, IOpusPacketSink sink)
    {
        if (aac.IsEmpty)
            return;
        fixed (byte* p = aac)
        {
            _in.Borrow(p, aac.Length, millis, millis, 0, true);
            int r = _decoder.SendPacket(_in);
            _in.Unref();
            if (r < 0)
            {
                DecodeErrors++;
                return;
            }
        }
        int got;
        while ((got = _decoder.ReceiveFrame(_decoded)) >= 0)
        {
            FramesDecoded++;
            if (Resample(_decoded))
                Append(millis, sink);
            else
                DecodeErrors++;
            _decoded.Unref();
        }
        if (got != AvLayout.ErrorEagain && got != AvLayout.ErrorEof)
            DecodeErrors++;
    }

    private bool Resample(AvFrame frame)
    {
        if (frame.Samples <= 0 || frame.SampleRate <= 0)
            return false;
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
            AvUtil.av_channel_layout_default(outLayout, _channels);
            void* swr = null;
            if (SwResample.swr_alloc_set_opts2(&swr, outLayout, SampleFmtFlt, SampleRate,
                    (byte*)frame.Ptr + AvLayout.FrameChLayout, frame.Format, frame.SampleRate, 0, null) < 0 || SwResample.swr_init(swr) < 0)
            {
                SwResample.swr_free(&swr);
                return false;
            }
            _swr = swr;
            _swrInFormat = frame.Format;
            _swrInRate = frame.SampleRate;
            _swrInChannels = frame.Channels;
        }
        var o = _resampled.Ptr;
        int capacity = (int)((long)frame.Samples * SampleRate / frame.SampleRate) + 256;
        if (_resampledCapacity < capacity)
        {
            _resampled.Unref();
            AvLayout.SetI32(o, AvLayout.FrameNbSamples, capacity);
            AvLayout.SetI32(o, AvLayout.FrameFormat, SampleFmtFlt);
            AvLayout.SetI32(o, AvLayout.FrameSampleRate, SampleRate);
            AvUtil.av_channel_layout_default((byte*)o + AvLayout.FrameChLayout, _channels);
            FfmpegLibrary.ThrowIfError(AvUtil.av_frame_get_buffer(o, 0), "resample buffer");
            _resampledCapacity = capacity;
        }
        int n = SwResample.swr_convert(_swr, (byte**)_resampled.ExtendedData, _resampledCapacity, (byte**)frame.ExtendedData, frame.Samples);
        if (n < 0)
            return false;
        AvLayout.SetI32(o, AvLayout.FrameNbSamples, n); // what the FIFO takes; the buffer keeps its capacity
        return true;
    }

    private void Append(long millis, IOpusPacketSink sink)
    {
        long expected = _baseMillis == long.MinValue ? long.MinValue : _baseMillis + (_samplesIn - _baseSample) * 1000 / SampleRate;
        if (expected == long.MinValue || Math.Abs(millis - expected) > 100)
        {
            AvUtil.av_audio_fifo_reset(_fifo);
            _samplesIn = _samplesOut = Math.Max(_samplesIn, _samplesOut) + FrameSamples * 2;
            _baseMillis = millis;
            _baseSample = _samplesIn;
        }
        int samples = _resampled.Samples;
        if (samples == 0)
            return;
        if (AvUtil.av_audio_fifo_write(_fifo, _resampled.ExtendedData, samples) < samples)
        {
            DecodeErrors++;
            return;
        }
        _samplesIn += samples;
        while (AvUtil.av_audio_fifo_size(_fifo) >= FrameSamples)
        {
            AvUtil.av_frame_make_writable(_chunk.Ptr);
            AvUtil.av_audio_fifo_read(_fifo, _chunk.ExtendedData, FrameSamples);
            _chunk.Pts = _samplesOut;
            _samplesOut += FrameSamples;
            if (_encoder.SendFrame(_chunk) < 0)
                continue;
            while (_encoder.ReceivePacket(_out) >= 0)
            {
                FramesEncoded++;
                // libopus's pts are its input's less the pre-skip; the frame it carries started 20 ms per packet on.
                long ms = _baseMillis + (_out.Pts - _baseSample) * 1000 / SampleRate;
                sink.OnOpusPacket(_out.Data, ms);
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
        _resampled.Dispose();
        _decoded.Dispose();
        _chunk.Dispose();
        _in.Dispose();
        _out.Dispose();
    }
}
