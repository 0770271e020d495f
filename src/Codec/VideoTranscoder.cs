using System.Buffers;
using Engine.Codec.Native;
using Engine.Rtp.Media;

namespace Engine.Codec;

/// <summary>Receives the H.264 access units (AVCC) a transcoder produces.</summary>
internal interface IVideoPacketSink
{
    void OnVideoPacket(ReadOnlySpan<byte> avcc, long millis, bool isKeyframe);
}

/// <summary>Settings of the H.264 encoder used when a stream must be transcoded.</summary>
public sealed record VideoEncoderSettings(int GopFrames = 60, long BitRate = 1_000_000, int Threads = 1);

/// <summary>
/// H.264 (any profile), VP8 or VP9 to H.264 Constrained Baseline with libx264 (ultrafast,
/// zerolatency) at the source resolution. A new resolution reopens the encoder, whose next
/// keyframe carries the new SPS/PPS. Timestamps (ms) pass through unchanged. With
/// <c>output: MediaCodec.Vp8</c> it encodes VP8 with libvpx in realtime mode instead (a player that
/// offers no H.264, e.g. Firefox without OpenH264): error resilient, no lag, raw VP8 frames out.
/// <see cref="SetBitRate"/> retargets the open encoder without a keyframe: x264 in ABR with a
/// one-second VBV (FFmpeg's wrapper reconfigures x264 before the next frame), libvpx in CBR with a
/// one-second buffer (set through libvpx itself: FFmpeg's wrapper reads the rate at open only).
/// </summary>
internal sealed unsafe class VideoTranscoder : IDisposable
{
    private readonly VideoEncoderSettings _settings;
    private readonly AvPacket _in = new(), _out = new();
    private readonly AvFrame _decoded = new();
    private AvFrame? _scaled;
    private AvCodecContext? _decoder, _encoder;
    private MediaCodec _decoderCodec;
    private void* _scaler;
    private int _encWidth, _encHeight, _encFormat = -1;
    private long _openBitRate;
    private byte[] _scratch = new byte[64 * 1024];
    private readonly bool _annexB;
    private readonly MediaCodec _output;
    private bool _forceKeyframe;
    private long _bitRate;
    // libvpx's encoder inside FFmpeg's context and our copy of its live config (CfgSize bytes), found at the first rate change.
    private void* _vpxContext, _vpxConfig;
    private bool _vpxUnavailable;

    /// <summary>The lowest rate <see cref="SetBitRate"/> takes (x264 and libvpx take kbit/s).</summary>
    public const long MinBitRate = 10_000;

    /// <param name="annexB">H.264 in and out as Annex B (an RTMP pull's frames; SPS/PPS in front of each IDR) instead of AVCC.</param>
    /// <param name="output">H.264 (libx264) or VP8 (libvpx; frames come out as VP8 bitstream).</param>
    public VideoTranscoder(VideoEncoderSettings settings, bool annexB = false, MediaCodec output = MediaCodec.H264)
    {
        if (output is not (MediaCodec.H264 or MediaCodec.Vp8))
            throw new ArgumentException("H.264 or VP8 only", nameof(output));
        _settings = settings;
        _annexB = annexB;
        _output = output;
        _bitRate = settings.BitRate;
    }

    /// <summary>The encoder's target now (bits per second).</summary>
    public long BitRate => _bitRate;
    /// <summary>Rate changes libvpx refused, or that could not reach it (its context not where FFmpeg 5.1 keeps it).</summary>
    public long RateChangesRefused { get; private set; }

    /// <summary>
    /// Encode thread: the target from the next frame on (no keyframe, no reopen). Allocation-free;
    /// an unchanged rate costs nothing. A reopened encoder (new resolution) starts at the last rate.
    /// </summary>
    public void SetBitRate(long bps)
    {
        bps = Math.Max(bps, MinBitRate);
        if (bps == _bitRate)
            return;
        _bitRate = bps;
        if (_encoder == null)
            return;
        if (_output == MediaCodec.H264)
            SetX264Rate(_encoder, bps); // X264_frame compares these with its params and calls x264_encoder_reconfig
        else
            SetVp8Rate(bps);
    }

    private static void SetX264Rate(AvCodecContext c, long bps)
    {
        c.SetBitRate(bps);
        AvLayout.SetI64(c.Ptr, AvLayout.CtxRcMaxRate, bps);
        AvLayout.SetI32(c.Ptr, AvLayout.CtxRcBufferSize, (int)Math.Min(bps, int.MaxValue)); // one second: the rate follows within about that
    }

    private void SetVp8Rate(long bps)
    {
        _encoder!.SetBitRate(bps);
        if (_vpxContext == null && !FindVpxConfig())
        {
            RateChangesRefused++;
            return;
        }
        // Buffer sizes are in ms in libvpx: they scale with the new rate by themselves.
        *(uint*)((byte*)_vpxConfig + Vpx.CfgTargetBitrate) = (uint)((bps + 500) / 1000);
        if (Vpx.vpx_codec_enc_config_set(_vpxContext, _vpxConfig) != 0)
            RateChangesRefused++;
    }

    // FFmpeg's wrapper keeps the vpx_codec_ctx_t after its AVClass pointer; libvpx keeps the live config
    // in its private state. Both are checked (the VP8 interface, then size, time base and rate as opened)
    // before anything is written, so another layout refuses the change instead of corrupting memory.
    private bool FindVpxConfig()
    {
        if (_vpxUnavailable)
            return false;
        try
        {
            byte* ctx = (byte*)AvLayout.Ptr(_encoder!.Ptr, AvLayout.CtxPrivData) + Vpx.FfmpegContextEncoder;
            if (AvLayout.Ptr(ctx, Vpx.CtxIface) != Vpx.vpx_codec_vp8_cx())
                return Unavailable();
            byte* alg = (byte*)AvLayout.Ptr(ctx, Vpx.CtxPriv);
            if (alg == null)
                return Unavailable();
            uint kbps = (uint)((_openBitRate + 500) / 1000);
            for (int off = 0; off <= Vpx.PrivConfigSearchLimit; off += 8)
            {
                byte* cfg = alg + off;
                if (*(uint*)(cfg + Vpx.CfgWidth) == (uint)_encWidth && *(uint*)(cfg + Vpx.CfgHeight) == (uint)_encHeight
                    && *(int*)(cfg + Vpx.CfgTimebase) == 1 && *(int*)(cfg + Vpx.CfgTimebase + 4) == 1000
                    && *(uint*)(cfg + Vpx.CfgTargetBitrate) == kbps)
                {
                    if (_vpxConfig == null)
                        _vpxConfig = System.Runtime.InteropServices.NativeMemory.Alloc(Vpx.CfgSize);
                    Buffer.MemoryCopy(cfg, _vpxConfig, Vpx.CfgSize, Vpx.CfgSize);
                    _vpxContext = ctx;
                    return true;
                }
            }
            return Unavailable();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return Unavailable();
        }
    }

    private bool Unavailable()
    {
        _vpxUnavailable = true;
        return false;
    }

    public MediaCodec Output => _output;

    public long FramesDecoded { get; private set; }
    public long FramesEncoded { get; private set; }
    public long DecodeErrors { get; private set; }
    public int Width => _encWidth;
    public int Height => _encHeight;

    /// <summary>The next encoded frame is an IDR (a player's PLI: an RTMP source cannot be asked).</summary>
    public void RequestKeyframe() => _forceKeyframe = true;

    /// <summary>Drops codec state: the next input must be a keyframe, the next output is one.</summary>
    public void Reset()
    {
        _decoder?.Dispose();
        _decoder = null;
        CloseEncoder();
    }

    public void Transcode(MediaCodec codec, ReadOnlySpan<byte> data, long millis, IVideoPacketSink sink) => Transcode(codec, data, millis, millis, sink);

    /// <summary>
    /// One access unit with its decode and presentation times (they differ with B-frames): the
    /// decoder reorders, the encoder (no B-frames) gets presentation order; output carries the PTS.
    /// </summary>
    public void Transcode(MediaCodec codec, ReadOnlySpan<byte> data, long dtsMillis, long ptsMillis, IVideoPacketSink sink)
    {
        if (_decoder == null || _decoderCodec != codec)
        {
            _decoder?.Dispose();
            int id = codec switch { MediaCodec.H264 => AvLayout.CodecIdH264, MediaCodec.Vp8 => AvLayout.CodecIdVp8, MediaCodec.Vp9 => AvLayout.CodecIdVp9, _ => throw new ArgumentException("not video", nameof(codec)) };
            _decoder = AvCodecContext.Open(AvCodec.avcodec_find_decoder(id), $"{codec} decoder", c =>
            {
                c.SetInt(AvLayout.CtxThreadCount, 1);
                if (!_annexB)
                    c.SetOption("flags", "+low_delay"); // WebRTC sources never reorder; an RTMP pull's B-frames must be

            });
            _decoderCodec = codec;
        }
        ReadOnlySpan<byte> packet = data;
        if (codec == MediaCodec.H264 && !_annexB)
        {
            // libavcodec's H.264 decoder takes Annex B when it has no avcC.
            EnsureScratch(data.Length);
            int n = AvcConfig.AvccToAnnexB(data, _scratch);
            if (n < 0)
            {
                DecodeErrors++;
                return;
            }
            packet = _scratch.AsSpan(0, n);
        }
        fixed (byte* p = packet)
        {
            _in.Borrow(p, packet.Length, ptsMillis, dtsMillis, 0, false);
            int r = _decoder.SendPacket(_in);
            _in.Unref();
            if (r < 0 && r != AvLayout.ErrorEagain)
            {
                DecodeErrors++;
                return;
            }
        }
        while (_decoder.ReceiveFrame(_decoded) >= 0)
        {
            FramesDecoded++;
            Encode(_decoded, sink);
            _decoded.Unref();
        }
    }

    private void Encode(AvFrame frame, IVideoPacketSink sink)
    {
        int format = frame.Format;
        bool direct = format == AvLayout.PixFmtYuv420p || (format == AvLayout.PixFmtYuvj420p && _output == MediaCodec.H264); // libvpx takes no full-range yuvj
        int encFormat = direct ? format : AvLayout.PixFmtYuv420p;
        if (_encoder == null || frame.Width != _encWidth || frame.Height != _encHeight || encFormat != _encFormat)
            OpenEncoder(frame.Width, frame.Height, encFormat, format, sink);
        var input = frame;
        if (!direct)
            input = Scale(frame);
        // x264 places keyframes by GOP, not where the source had them; a forced I is an IDR (closed GOP).
        input.PictureType = _forceKeyframe ? AvLayout.PictureTypeI : 0;
        _forceKeyframe = false;
        long pts = frame.Pts;
        input.Pts = pts;
        if (_encoder!.SendFrame(input) >= 0)
            Drain(sink);
    }

    private AvFrame Scale(AvFrame frame)
    {
        _scaled ??= new AvFrame();
        void* s = _scaled.Ptr;
        if (_scaled.Width != frame.Width || _scaled.Height != frame.Height)
        {
            _scaled.Unref();
            AvLayout.SetI32(s, AvLayout.FrameWidth, frame.Width);
            AvLayout.SetI32(s, AvLayout.FrameHeight, frame.Height);
            AvLayout.SetI32(s, AvLayout.FrameFormat, AvLayout.PixFmtYuv420p);
            FfmpegLibrary.ThrowIfError(AvUtil.av_frame_get_buffer(s, 0), "frame buffer");
        }
        AvUtil.av_frame_make_writable(s);
        void* f = frame.Ptr;
        SwScale.sws_scale(_scaler, (byte**)((byte*)f + AvLayout.FrameData), (int*)((byte*)f + AvLayout.FrameLinesize), 0, frame.Height,
            (byte**)((byte*)s + AvLayout.FrameData), (int*)((byte*)s + AvLayout.FrameLinesize));
        return _scaled;
    }

    private void OpenEncoder(int width, int height, int encFormat, int sourceFormat, IVideoPacketSink sink)
    {
        if (_encoder != null)
        {
            // Flush what the old encoder holds before the new resolution starts.
            if (_encoder.SendFrame(null) >= 0)
                Drain(sink);
        }
        CloseEncoder();
        _encoder = _output == MediaCodec.Vp8 ? OpenVp8(width, height, encFormat) : AvCodecContext.Open(AvCodec.avcodec_find_encoder_by_name("libx264"), "libx264 encoder", c =>
        {
            c.SetInt(AvLayout.CtxWidth, width);
            c.SetInt(AvLayout.CtxHeight, height);
            c.SetInt(AvLayout.CtxPixFmt, encFormat);
            c.SetRational(AvLayout.CtxTimeBase, 1, 1000);
            c.SetRational(AvLayout.CtxFramerate, 30, 1);
            c.SetInt(AvLayout.CtxGopSize, _settings.GopFrames);
            c.SetInt(AvLayout.CtxMaxBFrames, 0);
            c.SetInt(AvLayout.CtxThreadCount, _settings.Threads);
            // ABR within a VBV, on from the start: x264 can retarget a VBV but not turn one on later.
            SetX264Rate(c, _bitRate);
            c.SetOption("preset", "ultrafast", searchChildren: true);
            c.SetOption("tune", "zerolatency", searchChildren: true);
            c.SetOption("profile", "baseline", searchChildren: true);
        });
        if (encFormat != sourceFormat)
        {
            _scaler = SwScale.sws_getContext(width, height, sourceFormat, width, height, encFormat, AvLayout.SwsBilinear, null, null, null);
            if (_scaler == null)
                throw new FfmpegException($"no conversion from pixel format {sourceFormat}");
        }
        _encWidth = width;
        _encHeight = height;
        _encFormat = encFormat;
        _openBitRate = _bitRate;
    }

    private AvCodecContext OpenVp8(int width, int height, int encFormat) =>
        AvCodecContext.Open(AvCodec.avcodec_find_encoder_by_name("libvpx"), "libvpx encoder", c =>
        {
            c.SetInt(AvLayout.CtxWidth, width);
            c.SetInt(AvLayout.CtxHeight, height);
            c.SetInt(AvLayout.CtxPixFmt, encFormat);
            c.SetRational(AvLayout.CtxTimeBase, 1, 1000);
            c.SetRational(AvLayout.CtxFramerate, 30, 1);
            c.SetInt(AvLayout.CtxGopSize, _settings.GopFrames);
            c.SetInt(AvLayout.CtxThreadCount, _settings.Threads);
            // CBR (FFmpeg picks it when min = max = bit_rate) with a one-second buffer: the rate follows a new target quickly.
            c.SetBitRate(_bitRate);
            AvLayout.SetI64(c.Ptr, AvLayout.CtxRcMinRate, _bitRate);
            AvLayout.SetI64(c.Ptr, AvLayout.CtxRcMaxRate, _bitRate);
            AvLayout.SetI32(c.Ptr, AvLayout.CtxRcBufferSize, (int)Math.Min(_bitRate, int.MaxValue));
            AvLayout.SetI32(c.Ptr, AvLayout.CtxRcInitialBufferOccupancy, (int)Math.Min(_bitRate / 2, int.MaxValue));
            // Realtime: no look-ahead or alt-ref frames (a frame out per frame in), fastest speed,
            // and error resilience so a lost frame's damage fades instead of lasting until a keyframe.
            c.SetOption("deadline", "realtime", searchChildren: true);
            c.SetOption("cpu-used", "8", searchChildren: true);
            c.SetOption("lag-in-frames", "0", searchChildren: true);
            c.SetOption("auto-alt-ref", "0", searchChildren: true);
            c.SetOption("error-resilient", "default", searchChildren: true);
        });

    private void Drain(IVideoPacketSink sink)
    {
        while (_encoder!.ReceivePacket(_out) >= 0)
        {
            var annexB = _out.Data;
            if (_annexB || _output == MediaCodec.Vp8)
            {
                FramesEncoded++;
                sink.OnVideoPacket(annexB, _out.Pts, _out.IsKey);
                _out.Unref();
                continue;
            }
            EnsureScratch(AvcConfig.MaxAvccLength(annexB.Length));
            int n = AvcConfig.AnnexBToAvcc(annexB, _scratch);
            if (n > 0)
            {
                FramesEncoded++;
                sink.OnVideoPacket(_scratch.AsSpan(0, n), _out.Pts, _out.IsKey);
            }
            _out.Unref();
        }
    }

    private void EnsureScratch(int length)
    {
        if (_scratch.Length < length)
            _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
    }

    private void CloseEncoder()
    {
        _encoder?.Dispose();
        _encoder = null;
        _vpxContext = null; // the next encoder's is found again (our config copy is reused)
        if (_scaler != null)
        {
            SwScale.sws_freeContext(_scaler);
            _scaler = null;
        }
        _encWidth = _encHeight = 0;
        _encFormat = -1;
    }

    public void Dispose()
    {
        Reset();
        _scaled?.Dispose();
        _decoded.Dispose();
        _in.Dispose();
        _out.Dispose();
        if (_vpxConfig != null)
        {
            System.Runtime.InteropServices.NativeMemory.Free(_vpxConfig);
            _vpxConfig = null;
        }
    }
}
