using System.Runtime.InteropServices;

namespace Engine.Codec.Native;

// libvpx 1.12 (Debian 12's libvpx7), for what FFmpeg 5.1's libvpx wrapper cannot do: change the
// VP8 target bitrate of an open encoder (it reads bit_rate at open only).
internal static unsafe partial class Vpx
{
    public const string Lib = "libvpx.so.7";
    [LibraryImport(Lib)] public static partial void* vpx_codec_vp8_cx();
    [LibraryImport(Lib)] public static partial byte* vpx_codec_iface_name(void* iface);
    [LibraryImport(Lib)] public static partial int vpx_codec_enc_config_set(void* ctx, void* cfg);

    // vpx_codec_ctx_t (vpx_codec.h): name, iface, err, err_detail, init_flags, config, priv.
    public const int CtxName = 0, CtxIface = 8, CtxPriv = 48;
    // vpx_codec_enc_cfg_t (vpx_encoder.h, ABI 25): sizeof 504.
    public const int CfgSize = 504, CfgWidth = 12, CfgHeight = 16, CfgTimebase = 28, CfgTargetBitrate = 112;
    // FFmpeg 5.1's VPxEncoderContext: its AVClass pointer, then the vpx_codec_ctx_t.
    public const int FfmpegContextEncoder = 8;
    // vp8_cx_iface.c keeps the live config after vpx_codec_priv_t (184 bytes in 1.12); searched up to here.
    public const int PrivConfigSearchLimit = 512;
}
