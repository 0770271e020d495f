namespace Engine.Rtp.Media;

/// <summary>The encoded formats the engine receives and sends.</summary>
public enum MediaCodec : byte
{
    H264,
    Vp8,
    Vp9,
    Opus,
}
