namespace Engine.Codec.Native;

// Field offsets of FFmpeg 5.1's public structs on x86-64/aarch64 LP64 (from the libavcodec59,
// libavformat59 and libavutil57 headers). FfmpegLibrary.Load cross-checks a few of them against
// the AVOption tables at start-up, so a layout drift fails loudly instead of corrupting memory.
internal static unsafe class AvLayout
{
    // AVPacket
    public const int PacketPts = 8, PacketDts = 16, PacketData = 24, PacketSize = 32, PacketStreamIndex = 36, PacketFlags = 40, PacketDuration = 64;
    // AVFrame
    public const int FrameData = 0, FrameLinesize = 64, FrameExtendedData = 96, FrameWidth = 104, FrameHeight = 108, FrameNbSamples = 112,
        FrameFormat = 116, FrameKeyFrame = 120, FramePictType = 124, FramePts = 136, FrameSampleRate = 208, FrameChLayout = 448;
    // AVCodecContext
    public const int CtxBitRate = 56, CtxFlags = 76, CtxExtradata = 88, CtxExtradataSize = 96, CtxTimeBase = 100, CtxWidth = 116, CtxHeight = 120,
        CtxGopSize = 132, CtxPixFmt = 136, CtxMaxBFrames = 160, CtxSampleRate = 352, CtxSampleFmt = 360, CtxFrameSize = 364, CtxThreadCount = 636,
        CtxFramerate = 712, CtxPktTimebase = 724, CtxChLayout = 920,
        CtxPrivData = 32, CtxRcBufferSize = 436, CtxRcMaxRate = 456, CtxRcMinRate = 464, CtxRcInitialBufferOccupancy = 480;
    // AVFormatContext, AVStream, AVCodecParameters
    public const int FmtOformat = 16, FmtPb = 32, FmtNbStreams = 44, FmtStreams = 48;
    public const int StreamIndex = 0, StreamTimeBase = 16, StreamCodecpar = 208;
    public const int ParCodecType = 0, ParCodecId = 4, ParExtradata = 16, ParExtradataSize = 24, ParFormat = 28, ParBitRate = 32, ParWidth = 56, ParHeight = 60,
        ParSampleRate = 116, ParFrameSize = 124, ParChLayout = 144;
    public const int OutputFormatFlags = 44;
    public const int AvioError = 84; // AVIOContext.error
    public const int ChannelLayoutSize = 24;

    public const int CodecIdH264 = 27, CodecIdVp8 = 139, CodecIdVp9 = 167, CodecIdOpus = 86076, CodecIdAac = 86018;
    public const int MediaTypeVideo = 0, MediaTypeAudio = 1;
    public const int PixFmtYuv420p = 0, PixFmtYuvj420p = 12;
    public const int SampleFmtFltp = 8;
    public const int ErrorEagain = -11, ErrorEof = -541478725;
    public const int PacketDataNewExtradata = 1, PacketFlagKey = 1;
    public const int CodecFlagGlobalHeader = 1 << 22;
    public const int FormatNoFile = 1, IoFlagWrite = 2;
    public const int PictureTypeI = 1;
    public const int SwsBilinear = 2;
    public const long NoPts = long.MinValue;

    public static int I32(void* p, int offset) => *(int*)((byte*)p + offset);
    public static long I64(void* p, int offset) => *(long*)((byte*)p + offset);
    public static void* Ptr(void* p, int offset) => *(void**)((byte*)p + offset);
    public static void SetI32(void* p, int offset, int value) => *(int*)((byte*)p + offset) = value;
    public static void SetI64(void* p, int offset, long value) => *(long*)((byte*)p + offset) = value;
    public static void SetPtr(void* p, int offset, void* value) => *(void**)((byte*)p + offset) = value;
    public static void SetRational(void* p, int offset, int num, int den)
    {
        SetI32(p, offset, num);
        SetI32(p, offset + 4, den);
    }
}
