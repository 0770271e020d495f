namespace Engine.Codec;

/// <summary>Which RTMP client pushes to rtmp:// URLs.</summary>
public enum RtmpClient
{
    /// <summary>Ours: one shared I/O thread (in the host), remuxed video written from the media thread, one send per output per <see cref="RtmpClientSettings.SendIntervalMillis"/>.</summary>
    Engine,
    /// <summary>libavformat's, on the output's writer thread (also what rtmps:// and URLs with credentials always use).</summary>
    Ffmpeg,
}
