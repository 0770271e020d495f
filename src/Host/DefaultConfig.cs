namespace Engine.Host;

/// <summary>The embedded default config, in the legacy gateway's INI format.</summary>
public static class DefaultConfig
{
    public const string Text =
        """
        # engine default config (legacy gateway INI format, see docs/LEGACY-GATEWAY.md)
        [BASE]
        PORT=9880
        MAXCLIENT=100
        TIMEOUT=0
        STATETIME=1800

        [LOG]
        LOGLEVEL=4
        DEBUGMODE=0

        [WEBRTC]
        WEBRTCPORTSTART=10000
        WEBRTCMAXCLIENT=100

        [RTP]
        RTP_PLI_MAX_INTERVAL=3
        RTP_AUTO_BITRATE=1
        RTP_MIN_VIDEO_BPS=200000
        RTP_MAX_VIDEO_BPS=1000000
        RTP_TEST=0

        """;
}
