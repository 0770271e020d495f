namespace Engine.Codec;

public sealed record FlvOutputOptions
{
    public RtmpClient Client { get; init; } = RtmpClient.Engine;
    public TranscodePolicy Policy { get; init; } = TranscodePolicy.Auto;
    public VideoEncoderSettings Encoder { get; init; } = new();
    /// <summary>Reconnect after an error (RTMP); a file output fails for good instead.</summary>
    public bool Retry { get; init; } = true;
    public int RetryMinMillis { get; init; } = 250;
    public int RetryMaxMillis { get; init; } = 2000;
    public long IoTimeoutMicros { get; init; } = 5_000_000;
    public int QueueFrames { get; init; } = 600;
    public long QueueBytes { get; init; } = 32 << 20;
}
