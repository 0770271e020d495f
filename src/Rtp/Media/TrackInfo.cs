namespace Engine.Rtp.Media;

/// <summary>What a sink knows of one negotiated track before media flows.</summary>
/// <param name="PayloadType">The negotiated RTP payload type.</param>
/// <param name="FormatParameters">The a=fmtp parameters of that payload type, or "".</param>
public readonly record struct TrackInfo(MediaCodec Codec, int ClockRate, int Channels, int PayloadType, string FormatParameters = "")
{
    public bool IsVideo => Codec != MediaCodec.Opus;
}
