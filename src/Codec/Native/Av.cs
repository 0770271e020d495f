using System.Runtime.InteropServices;

namespace Engine.Codec.Native;

// Bindings to Debian 12's FFmpeg 5.1, by exact soname so another major version fails to load
// instead of misreading structs. Only what the engine calls; struct fields are read through
// AvLayout, whose offsets FfmpegLibrary checks at start-up.
internal static unsafe partial class AvUtil
{
    public const string Lib = "libavutil.so.57";
    [LibraryImport(Lib)] public static partial uint avutil_version();
    [LibraryImport(Lib)] public static partial void* av_frame_alloc();
    [LibraryImport(Lib)] public static partial void av_frame_free(void** frame);
    [LibraryImport(Lib)] public static partial void av_frame_unref(void* frame);
    [LibraryImport(Lib)] public static partial int av_frame_get_buffer(void* frame, int align);
    [LibraryImport(Lib)] public static partial int av_frame_make_writable(void* frame);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int av_opt_set(void* obj, string name, string value, int searchFlags);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int av_opt_set_int(void* obj, string name, long value, int searchFlags);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int av_dict_set(void** dict, string key, string value, int flags);
    [LibraryImport(Lib)] public static partial void av_dict_free(void** dict);
    [LibraryImport(Lib)] public static partial int av_strerror(int errnum, byte* buffer, nuint size);
    [LibraryImport(Lib)] public static partial void* av_malloc(nuint size);
    [LibraryImport(Lib)] public static partial void av_log_set_level(int level);
    [LibraryImport(Lib)] public static partial void av_channel_layout_default(void* layout, int channels);
    [LibraryImport(Lib)] public static partial void av_channel_layout_uninit(void* layout);
    [LibraryImport(Lib)] public static partial void* av_audio_fifo_alloc(int sampleFormat, int channels, int samples);
    [LibraryImport(Lib)] public static partial void av_audio_fifo_free(void* fifo);
    [LibraryImport(Lib)] public static partial int av_audio_fifo_write(void* fifo, void** data, int samples);
    [LibraryImport(Lib)] public static partial int av_audio_fifo_read(void* fifo, void** data, int samples);
    [LibraryImport(Lib)] public static partial int av_audio_fifo_size(void* fifo);
    [LibraryImport(Lib)] public static partial void av_audio_fifo_reset(void* fifo);
    [LibraryImport(Lib)] public static partial void* av_opt_child_next(void* obj, void* prev);
}

internal static unsafe partial class AvCodec
{
    public const string Lib = "libavcodec.so.59";
    [LibraryImport(Lib)] public static partial uint avcodec_version();
    [LibraryImport(Lib)] public static partial void* avcodec_find_decoder(int id);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial void* avcodec_find_encoder_by_name(string name);
    [LibraryImport(Lib)] public static partial void* avcodec_alloc_context3(void* codec);
    [LibraryImport(Lib)] public static partial void avcodec_free_context(void** context);
    [LibraryImport(Lib)] public static partial int avcodec_open2(void* context, void* codec, void** options);
    [LibraryImport(Lib)] public static partial int avcodec_send_packet(void* context, void* packet);
    [LibraryImport(Lib)] public static partial int avcodec_receive_frame(void* context, void* frame);
    [LibraryImport(Lib)] public static partial int avcodec_send_frame(void* context, void* frame);
    [LibraryImport(Lib)] public static partial int avcodec_receive_packet(void* context, void* packet);
    [LibraryImport(Lib)] public static partial void* av_packet_alloc();
    [LibraryImport(Lib)] public static partial void av_packet_free(void** packet);
    [LibraryImport(Lib)] public static partial void av_packet_unref(void* packet);
    [LibraryImport(Lib)] public static partial byte* av_packet_new_side_data(void* packet, int type, nuint size);
    [LibraryImport(Lib)] public static partial int avcodec_parameters_from_context(void* parameters, void* context);
}

internal static unsafe partial class AvFormat
{
    public const string Lib = "libavformat.so.59";
    [LibraryImport(Lib)] public static partial uint avformat_version();
    [LibraryImport(Lib)] public static partial int avformat_network_init();
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int avformat_alloc_output_context2(void** context, void* format, string formatName, string? url);
    [LibraryImport(Lib)] public static partial void avformat_free_context(void* context);
    [LibraryImport(Lib)] public static partial void* avformat_new_stream(void* context, void* codec);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int avio_open2(void** pb, string url, int flags, void* interruptCallback, void** options);
    [LibraryImport(Lib)] public static partial int avio_closep(void** pb);
    [LibraryImport(Lib)] public static partial void avio_flush(void* pb);
    [LibraryImport(Lib)] public static partial int avformat_write_header(void* context, void** options);
    [LibraryImport(Lib)] public static partial int av_write_frame(void* context, void* packet);
    [LibraryImport(Lib)] public static partial int av_write_trailer(void* context);
}

internal static unsafe partial class SwResample
{
    public const string Lib = "libswresample.so.4";
    [LibraryImport(Lib)] public static partial uint swresample_version();
    [LibraryImport(Lib)] public static partial int swr_alloc_set_opts2(void** swr, void* outLayout, int outFormat, int outRate, void* inLayout, int inFormat, int inRate, int logOffset, void* logContext);
    [LibraryImport(Lib)] public static partial int swr_init(void* swr);
    [LibraryImport(Lib)] public static partial int swr_convert(void* swr, byte** output, int outCount, byte** input, int inCount);
    [LibraryImport(Lib)] public static partial void swr_free(void** swr);
}

internal static unsafe partial class SwScale
{
    public const string Lib = "libswscale.so.6";
    [LibraryImport(Lib)] public static partial uint swscale_version();
    [LibraryImport(Lib)] public static partial void* sws_getContext(int srcW, int srcH, int srcFormat, int dstW, int dstH, int dstFormat, int flags, void* srcFilter, void* dstFilter, double* param);
    [LibraryImport(Lib)] public static partial int sws_scale(void* context, byte** srcSlice, int* srcStride, int srcSliceY, int srcSliceH, byte** dst, int* dstStride);
    [LibraryImport(Lib)] public static partial void sws_freeContext(void* context);
}
