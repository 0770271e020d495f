namespace Engine.Rtp.Media;

/// <summary>
/// One complete encoded frame leaving a receive pipeline: an H.264 access unit (AVCC), a VP8/VP9
/// frame, or an Opus packet. A view over the pipeline's storage, valid only during the sink call.
/// </summary>
public readonly ref struct EncodedFrame
{
    public EncodedFrame(MediaCodec codec, ReadOnlySpan<byte> data, uint rtpTimestamp, int clockRate, long senderNtpMicros,
        long arrivalMicros, bool isKeyframe, int width = 0, int height = 0)
    {
        Codec = codec;
        Data = data;
        RtpTimestamp = rtpTimestamp;
        ClockRate = clockRate;
        SenderNtpMicros = senderNtpMicros;
        ArrivalMicros = arrivalMicros;
        IsKeyframe = isKeyframe;
        Width = width;
        Height = height;
    }

    public MediaCodec Codec { get; }
    public ReadOnlySpan<byte> Data { get; }
    public uint RtpTimestamp { get; }
    public int ClockRate { get; }
    /// <summary>
    /// The sender's wall-clock capture time from its RTCP sender reports (RFC 3550 §6.4.1), in NTP
    /// microseconds; the common clock of all tracks of one sender. -1 until its first SR arrived.
    /// </summary>
    public long SenderNtpMicros { get; }
    /// <summary>When the frame's last packet arrived, on the receiver's clock.</summary>
    public long ArrivalMicros { get; }
    public bool IsKeyframe { get; }
    /// <summary>For video keyframes: from the SPS or the codec header; 0 when not known.</summary>
    public int Width { get; }
    public int Height { get; }
    public bool IsVideo => Codec != MediaCodec.Opus;
}
