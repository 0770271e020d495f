namespace Engine.Rtp.Video;

/// <summary>
/// One complete VP8/VP9 frame from a depacketizer: the codec's bitstream as an encoder wrote it.
/// A view: valid until the depacketizer's next Push.
/// </summary>
public readonly ref struct VideoFrame
{
    public VideoFrame(ReadOnlySpan<byte> data, uint rtpTimestamp, bool isKeyframe, int width, int height)
    {
        Data = data;
        RtpTimestamp = rtpTimestamp;
        IsKeyframe = isKeyframe;
        Width = width;
        Height = height;
    }

    public ReadOnlySpan<byte> Data { get; }
    public uint RtpTimestamp { get; }
    public bool IsKeyframe { get; }
    /// <summary>From the keyframe header (VP8) or the scalability structure (VP9); 0 when the frame does not say.</summary>
    public int Width { get; }
    public int Height { get; }
}
