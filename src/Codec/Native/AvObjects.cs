using Engine.Codec.Native;

namespace Engine.Codec;

/// <summary>Native objects alive now (packets, frames, codec and format contexts): tests prove each is freed once.</summary>
internal static class NativeObjects
{
    private static long _live;
    public static long Live => Interlocked.Read(ref _live);
    public static void Allocated() => Interlocked.Increment(ref _live);
    public static void Freed() => Interlocked.Decrement(ref _live);
}

/// <summary>An AVPacket owned by managed code: allocated once, freed exactly once.</summary>
internal sealed unsafe class AvPacket : IDisposable
{
    private void* _p = AvCodec.av_packet_alloc();

    public AvPacket()
    {
        if (_p == null)
            throw new FfmpegException("av_packet_alloc failed");
        NativeObjects.Allocated();
    }

    public void* Ptr => _p != null ? _p : throw new ObjectDisposedException(nameof(AvPacket));
    public ReadOnlySpan<byte> Data => new(AvLayout.Ptr(Ptr, AvLayout.PacketData), AvLayout.I32(Ptr, AvLayout.PacketSize));
    public long Pts => AvLayout.I64(Ptr, AvLayout.PacketPts);
    public long Dts => AvLayout.I64(Ptr, AvLayout.PacketDts);
    public bool IsKey => (AvLayout.I32(Ptr, AvLayout.PacketFlags) & AvLayout.PacketFlagKey) != 0;

    /// <summary>Points the packet at caller memory (not reference-counted: valid until the next Unref).</summary>
    public void Borrow(byte* data, int size, long pts, long dts, int streamIndex, bool key)
    {
        AvCodec.av_packet_unref(Ptr);
        AvLayout.SetPtr(_p, AvLayout.PacketData, data);
        AvLayout.SetI32(_p, AvLayout.PacketSize, size);
        AvLayout.SetI64(_p, AvLayout.PacketPts, pts);
        AvLayout.SetI64(_p, AvLayout.PacketDts, dts);
        AvLayout.SetI32(_p, AvLayout.PacketStreamIndex, streamIndex);
        AvLayout.SetI32(_p, AvLayout.PacketFlags, key ? AvLayout.PacketFlagKey : 0);
    }

    public void AddNewExtradata(ReadOnlySpan<byte> extradata)
    {
        byte* side = AvCodec.av_packet_new_side_data(Ptr, AvLayout.PacketDataNewExtradata, (nuint)extradata.Length);
        if (side == null)
            throw new FfmpegException("av_packet_new_side_data failed");
        extradata.CopyTo(new Span<byte>(side, extradata.Length));
    }

    public void Unref() => AvCodec.av_packet_unref(Ptr);

    public void Dispose()
    {
        if (_p == null)
            return;
        void* p = _p;
        _p = null;
        AvCodec.av_packet_free(&p);
        NativeObjects.Freed();
    }
}

/// <summary>An AVFrame owned by managed code.</summary>
internal sealed unsafe class AvFrame : IDisposable
{
    private void* _p = AvUtil.av_frame_alloc();

    public AvFrame()
    {
        if (_p == null)
            throw new FfmpegException("av_frame_alloc failed");
        NativeObjects.Allocated();
    }

    public void* Ptr => _p != null ? _p : throw new ObjectDisposedException(nameof(AvFrame));
    public int Width => AvLayout.I32(Ptr, AvLayout.FrameWidth);
    public int Height => AvLayout.I32(Ptr, AvLayout.FrameHeight);
    public int Format => AvLayout.I32(Ptr, AvLayout.FrameFormat);
    public int Samples => AvLayout.I32(Ptr, AvLayout.FrameNbSamples);
    public int SampleRate => AvLayout.I32(Ptr, AvLayout.FrameSampleRate);
    public int Channels => AvLayout.I32(Ptr, AvLayout.FrameChLayout + 4); // AVChannelLayout.nb_channels
    public void** ExtendedData => (void**)AvLayout.Ptr(Ptr, AvLayout.FrameExtendedData);

    public long Pts
    {
        get => AvLayout.I64(Ptr, AvLayout.FramePts);
        set => AvLayout.SetI64(Ptr, AvLayout.FramePts, value);
    }

    public int PictureType
    {
        get => AvLayout.I32(Ptr, AvLayout.FramePictType);
        set => AvLayout.SetI32(Ptr, AvLayout.FramePictType, value);
    }

    public void Unref() => AvUtil.av_frame_unref(Ptr);

    public void Dispose()
    {
        if (_p == null)
            return;
        void* p = _p;
        _p = null;
        AvUtil.av_frame_free(&p);
        NativeObjects.Freed();
    }
}

/// <summary>An AVCodecContext (decoder or encoder), freed exactly once.</summary>
internal sealed unsafe class AvCodecContext : IDisposable
{
    private void* _p;

    private AvCodecContext(void* p)
    {
        _p = p;
        NativeObjects.Allocated();
    }

    public void* Ptr => _p != null ? _p : throw new ObjectDisposedException(nameof(AvCodecContext));

    /// <summary>Allocates a context for <paramref name="codec"/>; <paramref name="configure"/> sets fields before avcodec_open2.</summary>
    public static AvCodecContext Open(void* codec, string what, Action<AvCodecContext>? configure)
    {
        if (codec == null)
            throw new FfmpegException($"{what}: codec not available");
        void* p = AvCodec.avcodec_alloc_context3(codec);
        if (p == null)
            throw new FfmpegException($"{what}: avcodec_alloc_context3 failed");
        var ctx = new AvCodecContext(p);
        try
        {
            configure?.Invoke(ctx);
            FfmpegLibrary.ThrowIfError(AvCodec.avcodec_open2(p, codec, null), what);
            return ctx;
        }
        catch
        {
            ctx.Dispose();
            throw;
        }
    }

    public void SetOption(string name, string value, bool searchChildren = false) =>
        FfmpegLibrary.ThrowIfError(AvUtil.av_opt_set(Ptr, name, value, searchChildren ? 1 : 0), $"option {name}={value}");

    public void SetInt(int offset, int value) => AvLayout.SetI32(Ptr, offset, value);
    public int GetInt(int offset) => AvLayout.I32(Ptr, offset);
    public void SetRational(int offset, int num, int den) => AvLayout.SetRational(Ptr, offset, num, den);
    public void SetBitRate(long bps) => AvLayout.SetI64(Ptr, AvLayout.CtxBitRate, bps);
    public void SetDefaultChannelLayout(int channels) => AvUtil.av_channel_layout_default((byte*)Ptr + AvLayout.CtxChLayout, channels);

    public ReadOnlySpan<byte> Extradata => new(AvLayout.Ptr(Ptr, AvLayout.CtxExtradata), AvLayout.I32(Ptr, AvLayout.CtxExtradataSize));

    public int SendPacket(AvPacket? packet) => AvCodec.avcodec_send_packet(Ptr, packet == null ? null : packet.Ptr);
    public int ReceiveFrame(AvFrame frame) => AvCodec.avcodec_receive_frame(Ptr, frame.Ptr);
    public int SendFrame(AvFrame? frame) => AvCodec.avcodec_send_frame(Ptr, frame == null ? null : frame.Ptr);
    public int ReceivePacket(AvPacket packet) => AvCodec.avcodec_receive_packet(Ptr, packet.Ptr);

    public void Dispose()
    {
        if (_p == null)
            return;
        void* p = _p;
        _p = null;
        AvCodec.avcodec_free_context(&p);
        NativeObjects.Freed();
    }
}
