using System.Runtime.InteropServices;
using Engine.Codec.Native;

namespace Engine.Codec;

/// <summary>Thrown when FFmpeg is missing, of the wrong version, or a call into it fails.</summary>
public sealed class FfmpegException(string message) : Exception(message);

/// <summary>
/// Loads Debian 12's FFmpeg 5.1 once and checks it: each library present with the expected major
/// version, libx264 and the native AAC encoder built in, and the struct layout we read matching.
/// libavformat is loaded apart, only when an output needs it (files, rtmps, RTMP_CLIENT=ffmpeg):
/// it brings 37 more libraries (TLS, SSH, ZeroMQ...) and about 9 MB of resident memory.
/// </summary>
public static unsafe class FfmpegLibrary
{
    private static readonly (string Soname, string Package, int Major, Func<uint> Version)[] Libraries =
    [
        (AvUtil.Lib, "libavutil57", 57, AvUtil.avutil_version),
        (AvCodec.Lib, "libavcodec59", 59, AvCodec.avcodec_version),
        (SwResample.Lib, "libswresample4", 4, SwResample.swresample_version),
        (SwScale.Lib, "libswscale6", 6, SwScale.swscale_version),
    ];

    private static readonly Lock Gate = new();
    private static string? _error, _formatError;
    private static string? _versions, _formatVersion;
    private static bool _checked, _formatChecked;

    /// <summary>"libavutil 57.28.100, libavcodec 59.37.100, ..." once loaded (libavformat once it is).</summary>
    public static string Versions => _formatVersion == null ? _versions ?? "" : $"{_versions}, {_formatVersion}";

    /// <summary>Loads and checks FFmpeg (once; later calls return the first answer).</summary>
    public static bool TryLoad(out string? error) => Once(ref _checked, ref _error, Check, out error);

    /// <summary>Like <see cref="TryLoad"/>, but throws <see cref="FfmpegException"/> naming what is wrong.</summary>
    public static void Load() => ThrowUnless(TryLoad(out var error), error);

    /// <summary>The rest, then libavformat (once; later calls return the first answer).</summary>
    public static bool TryLoadFormat(out string? error) =>
        TryLoad(out error) && Once(ref _formatChecked, ref _formatError, CheckFormat, out error);

    public static void LoadFormat() => ThrowUnless(TryLoadFormat(out var error), error);

    private static bool Once(ref bool done, ref string? result, Func<string?> check, out string? error)
    {
        lock (Gate)
        {
            if (!done)
            {
                result = check();
                done = true;
            }
            error = result;
        }
        return error == null;
    }

    private static void ThrowUnless(bool loaded, string? error)
    {
        if (!loaded)
            throw new FfmpegException(error!);
    }

    private static string? CheckFormat()
    {
        string? error = CheckLibrary(AvFormat.Lib, "libavformat59", 59, AvFormat.avformat_version, out _formatVersion);
        if (error == null)
            AvFormat.avformat_network_init();
        return error;
    }

    private static string? CheckLibrary(string soname, string package, int major, Func<uint> version, out string? text)
    {
        text = null;
        if (!NativeLibrary.TryLoad(soname, out _))
            return $"FFmpeg library {soname} not found (install the Debian package {package})";
        uint v = version();
        if (v >> 16 != major)
            return $"FFmpeg library {soname} reports version {v >> 16}.{(v >> 8) & 0xFF}.{v & 0xFF}, expected major {major} ({package}, FFmpeg 5.1)";
        text = $"{soname[3..soname.IndexOf('.')]} {v >> 16}.{(v >> 8) & 0xFF}.{v & 0xFF}";
        return null;
    }

    private static string? Check()
    {
        var versions = new List<string>();
        foreach (var (soname, package, major, version) in Libraries)
        {
            if (CheckLibrary(soname, package, major, version, out var text) is { } error)
                return error;
            versions.Add(text!);
        }
        // AV_LOG_FATAL: our own log says what failed. ENGINE_FFMPEG_LOG=<av log level> (e.g. 32, 48) for diagnosis.
        AvUtil.av_log_set_level(int.TryParse(Environment.GetEnvironmentVariable("ENGINE_FFMPEG_LOG"), out int level) ? level : 8);
        if (AvCodec.avcodec_find_encoder_by_name("libx264") == null)
            return "FFmpeg's libavcodec59 lacks the libx264 encoder (Debian's build has it: install libavcodec59 from Debian, not a stripped build)";
        if (AvCodec.avcodec_find_encoder_by_name("aac") == null)
            return "FFmpeg's libavcodec59 lacks the native aac encoder";
        foreach (int id in new[] { AvLayout.CodecIdH264, AvLayout.CodecIdVp8, AvLayout.CodecIdVp9, AvLayout.CodecIdOpus })
            if (AvCodec.avcodec_find_decoder(id) == null)
                return $"FFmpeg's libavcodec59 lacks the decoder for codec id {id}";
        if (CheckLayout() is { } layout)
            return layout;
        _versions = string.Join(", ", versions);
        return null;
    }

    // Sets fields through the AVOption table (which knows the real offsets) and reads them back at ours.
    private static string? CheckLayout()
    {
        void* ctx = AvCodec.avcodec_alloc_context3(null);
        if (ctx == null)
            return "FFmpeg: avcodec_alloc_context3 failed";
        try
        {
            (string Name, int Offset, long Value)[] probes =
            [
                ("b", AvLayout.CtxBitRate, 1234567), ("g", AvLayout.CtxGopSize, 77), ("bf", AvLayout.CtxMaxBFrames, 3),
                ("ar", AvLayout.CtxSampleRate, 44100), ("threads", AvLayout.CtxThreadCount, 5), ("flags", AvLayout.CtxFlags, AvLayout.CodecFlagGlobalHeader),
                ("bufsize", AvLayout.CtxRcBufferSize, 765432), ("maxrate", AvLayout.CtxRcMaxRate, 2345678), ("minrate", AvLayout.CtxRcMinRate, 3456789),
                ("rc_init_occupancy", AvLayout.CtxRcInitialBufferOccupancy, 456789),
            ];
            foreach (var (name, offset, value) in probes)
            {
                if (AvUtil.av_opt_set_int(ctx, name, value, 0) < 0)
                    return $"FFmpeg layout check: cannot set option '{name}'";
                long read = name is "b" or "maxrate" or "minrate" ? AvLayout.I64(ctx, offset) : AvLayout.I32(ctx, offset);
                if (read != value)
                    return $"FFmpeg struct layout mismatch (AVCodecContext '{name}' not at offset {offset}): not the FFmpeg 5.1 ABI this build expects";
            }
            if (AvUtil.av_opt_set(ctx, "video_size", "320x240", 0) < 0 || AvLayout.I32(ctx, AvLayout.CtxWidth) != 320 || AvLayout.I32(ctx, AvLayout.CtxHeight) != 240)
                return "FFmpeg struct layout mismatch (AVCodecContext width/height)";
            if (AvUtil.av_opt_set(ctx, "pixel_format", "yuvj420p", 0) < 0 || AvLayout.I32(ctx, AvLayout.CtxPixFmt) != AvLayout.PixFmtYuvj420p)
                return "FFmpeg struct layout mismatch (AVCodecContext pix_fmt)";
            return null;
        }
        finally
        {
            AvCodec.avcodec_free_context(&ctx);
        }
    }

    internal static string ErrorText(int code)
    {
        byte* buffer = stackalloc byte[128];
        if (AvUtil.av_strerror(code, buffer, 128) < 0)
            return $"error {code}";
        return Marshal.PtrToStringUTF8((nint)buffer) ?? $"error {code}";
    }

    internal static void ThrowIfError(int code, string what)
    {
        if (code < 0)
            throw new FfmpegException($"{what}: {ErrorText(code)}");
    }
}
