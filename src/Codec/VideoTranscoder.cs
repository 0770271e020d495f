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
    private byte[] _scratch = new byte[64 * 1024];
    private readonly bool _annexB;
    private readonly MediaCodec _output;
    private bool _forceKeyframe;

    /// <param name="annexB">H.264 in and out as Annex B (an RTMP pull's frames; SPS/PPS in front of each IDR) instead of AVCC.</param>
    /// <param name="output">H.264 (libx264) or VP8 (libvpx; frames come out as VP8 bitstream).</param>
    public VideoTranscoder(VideoEncoderSettings settings, bool annexB = false, MediaCodec output = MediaCodec.H264)
    {
        if (output is not (MediaCodec.H264 or MediaCodec.Vp8))
            throw new ArgumentException("H.264 or VP8 only", nameof(output));
        _settings = settings;
        _annexB = annexB;
        _output = output;
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
            c.SetBitRate(_settings.BitRate);
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
            c.SetBitRate(_settings.BitRate);
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
    }
}
