using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Engine.Codec.Native;

namespace Engine.Codec;

/// <summary>Where an <see cref="FlvOutputSession"/> writes its tags. Timestamps are milliseconds from 0.</summary>
internal interface IFlvWriter : IDisposable
{
    /// <summary>False when the writer dropped the frame (its buffer is full); throws when the output failed.</summary>
    bool WriteVideo(ReadOnlySpan<byte> avcc, long millis, bool key, ReadOnlySpan<byte> newAvcC);

    bool WriteAudio(ReadOnlySpan<byte> aac, long millis);

    /// <summary>A clean end (trailer, or the RTMP unpublish), then closed.</summary>
    void Close();
}

/// <summary>
/// FLV through libavformat, to an rtmp:// URL or a file: H.264 (AVCC, with its avcC record) and
/// AAC. Timestamps are milliseconds (FLV's own unit). One thread; every call may block on I/O
/// inside libavformat (its connect, sends, the trailer), bounded by the read/write timeout and the
/// interrupt flag, so only an output's own writer thread in the host calls it.
/// </summary>
internal sealed unsafe class FlvMuxer : IFlvWriter
{
    private void* _format;
    private readonly AvPacket _packet = new();
    private readonly int _videoIndex = -1, _audioIndex = -1;
    private bool _headerWritten;
    private bool _flushByTime;
    private const long FlushIntervalMillis = 100;
    private long _lastFlushMillis = -FlushIntervalMillis;

    public readonly record struct VideoParameters(byte[] AvcC, int Width, int Height);
    public readonly record struct AudioParameters(byte[] AudioSpecificConfig, int SampleRate, int Channels);

    private FlvMuxer(string url, VideoParameters? video, AudioParameters? audio, int* interrupt, long timeoutMicros)
    {
        void* format = null;
        FfmpegLibrary.ThrowIfError(AvFormat.avformat_alloc_output_context2(&format, null, "flv", url), "flv muxer");
        _format = format;
        NativeObjects.Allocated();
        int index = 0;
        if (video is { } v)
        {
            void* par = NewStream(AvLayout.MediaTypeVideo, AvLayout.CodecIdH264, v.AvcC);
            AvLayout.SetI32(par, AvLayout.ParWidth, v.Width);
            AvLayout.SetI32(par, AvLayout.ParHeight, v.Height);
            _videoIndex = index++;
        }
        if (audio is { } a)
        {
            void* par = NewStream(AvLayout.MediaTypeAudio, AvLayout.CodecIdAac, a.AudioSpecificConfig);
            AvLayout.SetI32(par, AvLayout.ParSampleRate, a.SampleRate);
            AvLayout.SetI32(par, AvLayout.ParFrameSize, 1024);
            AvUtil.av_channel_layout_default((byte*)par + AvLayout.ParChLayout, a.Channels);
            _audioIndex = index;
        }
        void* oformat = AvLayout.Ptr(format, AvLayout.FmtOformat);
        bool isNetwork = url.Contains("://", StringComparison.Ordinal);
        if ((AvLayout.I32(oformat, AvLayout.OutputFormatFlags) & AvLayout.FormatNoFile) == 0)
        {
            void* options = null;
            if (isNetwork)
                AvUtil.av_dict_set(&options, "rw_timeout", timeoutMicros.ToString(System.Globalization.CultureInfo.InvariantCulture), 0);
            // AVIOInterruptCB { int (*callback)(void*); void* opaque; }: copied by avio_open2.
            void** callback = stackalloc void*[2];
            callback[0] = (delegate* unmanaged<void*, int>)&Interrupted;
            callback[1] = interrupt;
            void* pb = null;
            int r = AvFormat.avio_open2(&pb, url, AvLayout.IoFlagWrite, callback, &options);
            AvUtil.av_dict_free(&options);
            FfmpegLibrary.ThrowIfError(r, "open " + Redact(url));
            AvLayout.SetPtr(format, AvLayout.FmtPb, pb);
        }
        void* headerOptions = null;
        // Live: no seeking back to patch duration and size at the end. And no send() per frame
        // (libavformat flushes every packet on non-seekable outputs): we flush every 100 ms of media
        // time instead (packet timestamps: a live stream's run at the wall clock's pace, and no clock is read here).
        if (isNetwork)
        {
            AvUtil.av_dict_set(&headerOptions, "flvflags", "no_duration_filesize", 0);
            AvUtil.av_dict_set(&headerOptions, "flush_packets", "0", 0);
            _flushByTime = true;
        }
        int h = AvFormat.avformat_write_header(format, &headerOptions);
        AvUtil.av_dict_free(&headerOptions);
        FfmpegLibrary.ThrowIfError(h, "write FLV header to " + Redact(url));
        _headerWritten = true;
    }

    public static FlvMuxer Open(string url, VideoParameters? video, AudioParameters? audio, int* interrupt, long timeoutMicros)
    {
        FfmpegLibrary.LoadFormat();
        FlvMuxer? muxer = null;
        try
        {
            muxer = new FlvMuxer(url, video, audio, interrupt, timeoutMicros);
            return muxer;
        }
        catch
        {
            // The constructor threw: free what it allocated without a trailer.
            muxer?.Dispose();
            throw;
        }
    }

    public bool HasVideo => _videoIndex >= 0;
    public bool HasAudio => _audioIndex >= 0;

    public bool WriteVideo(ReadOnlySpan<byte> avcc, long millis, bool key, ReadOnlySpan<byte> newAvcC)
    {
        if (_videoIndex < 0)
            return true;
        fixed (byte* p = avcc)
        {
            _packet.Borrow(p, avcc.Length, millis, millis, _videoIndex, key);
            if (!newAvcC.IsEmpty)
                _packet.AddNewExtradata(newAvcC);
            Write(millis);
        }
        return true;
    }

    public bool WriteAudio(ReadOnlySpan<byte> aac, long millis)
    {
        if (_audioIndex < 0)
            return true;
        fixed (byte* p = aac)
        {
            _packet.Borrow(p, aac.Length, millis, millis, _audioIndex, key: true);
            Write(millis);
        }
        return true;
    }

    private void Write(long millis)
    {
        int r = AvFormat.av_write_frame(_format, _packet.Ptr);
        _packet.Unref();
        FfmpegLibrary.ThrowIfError(r, "write FLV packet");
        if (_flushByTime)
        {
            // Audio and video interleave a few ms apart; only a jump back of a second restarts the count.
            if (millis - _lastFlushMillis >= FlushIntervalMillis || millis < _lastFlushMillis - 1000)
            {
                _lastFlushMillis = millis;
                void* pb = AvLayout.Ptr(_format, AvLayout.FmtPb);
                AvFormat.avio_flush(pb);
                // avio reports a failed send through its error field, not a return value.
                int error = AvLayout.I32(pb, AvLayout.AvioError);
                if (error < 0)
                    FfmpegLibrary.ThrowIfError(error, "send FLV data");
            }
        }
    }

    /// <summary>Writes the trailer (a clean end for the RTMP server) and closes; idempotent.</summary>
    public void Close()
    {
        if (_format == null)
            return;
        if (_headerWritten)
        {
            _headerWritten = false;
            AvFormat.av_write_trailer(_format);
        }
        Dispose();
    }

    public void Dispose()
    {
        if (_format != null)
        {
            void* format = _format;
            _format = null;
            void* pb = AvLayout.Ptr(format, AvLayout.FmtPb);
            if (pb != null)
            {
                AvFormat.avio_closep(&pb);
                AvLayout.SetPtr(format, AvLayout.FmtPb, null);
            }
            AvFormat.avformat_free_context(format); // frees the streams and their extradata
            NativeObjects.Freed();
        }
        _packet.Dispose();
    }

    private void* NewStream(int mediaType, int codecId, byte[] extradata)
    {
        void* stream = AvFormat.avformat_new_stream(_format, null);
        if (stream == null)
            throw new FfmpegException("avformat_new_stream failed");
        AvLayout.SetRational(stream, AvLayout.StreamTimeBase, 1, 1000);
        void* par = AvLayout.Ptr(stream, AvLayout.StreamCodecpar);
        AvLayout.SetI32(par, AvLayout.ParCodecType, mediaType);
        AvLayout.SetI32(par, AvLayout.ParCodecId, codecId);
        if (extradata.Length > 0)
        {
            // Owned by the stream from here (freed by avformat_free_context); FFmpeg wants 64 zeroed padding bytes.
            byte* data = (byte*)AvUtil.av_malloc((nuint)(extradata.Length + 64));
            if (data == null)
                throw new FfmpegException("av_malloc failed");
            extradata.CopyTo(new Span<byte>(data, extradata.Length));
            new Span<byte>(data + extradata.Length, 64).Clear();
            AvLayout.SetPtr(par, AvLayout.ParExtradata, data);
            AvLayout.SetI32(par, AvLayout.ParExtradataSize, extradata.Length);
        }
        return par;
    }

    [UnmanagedCallersOnly]
    private static int Interrupted(void* flag) => flag != null && Volatile.Read(ref Unsafe.AsRef<int>(flag)) != 0 ? 1 : 0;

    /// <summary>An URL for logs: no credentials (rtmp://user:pass@host).</summary>
    public static string Redact(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        int at = url.IndexOf('@');
        return scheme >= 0 && at > scheme ? string.Concat(url.AsSpan(0, scheme + 3), "***", url.AsSpan(at)) : url;
    }
}
