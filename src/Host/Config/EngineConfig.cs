using System.Net;

namespace Engine.Host.Config;

/// <summary>
/// The server's settings, read from the legacy gateway's INI keys (docs/LEGACY-GATEWAY.md).
/// Defaults are the legacy defaults unless the comment says otherwise.
/// </summary>
public sealed class EngineConfig
{
    // [BASE]
    public int HttpPort { get; set; } = 9880;
    public int MaxClient { get; set; } = 100;
    public int MaxHandleThread { get; set; } = 1;
    public int MaxQueryPerCopy { get; set; }
    public int TimeoutSeconds { get; set; }
    public int StateTimeSeconds { get; set; } = 1800;
    public string? PidFile { get; set; }

    // [LOG]
    public int LogLevel { get; set; } = 4;
    public string? LogDir { get; set; }
    public bool DebugMode { get; set; }

    // [WEBSOCKET]: the legacy separate port; ours also serves /ws on the HTTP port. Off unless set.
    public int? WebSocketPort { get; set; }

    // [WEBRTC]
    public int WebRtcPort { get; set; } = 10000;
    public int WebRtcMaxClient { get; set; } = 100;
    public string? Rtp2RtmpShell { get; set; }
    public string? Rtp2RtmpBaseUrl { get; set; }
    public string? Rtp2RtmpBaseRecordUrl { get; set; }
    public string? Rtmp2RtpShell { get; set; }
    public string? Rtmp2RtpBaseUrl { get; set; }
    /// <summary><c>RTMP2RTPBASEURL_&lt;server_id&gt;</c> keys, for <c>imRTC/sendSdpPull</c>'s <c>server_id</c>.</summary>
    public Dictionary<string, string> Rtmp2RtpBaseUrlByServerId { get; } = new(StringComparer.Ordinal);
    public string? DtlsCertificatePath { get; set; }
    public string? DtlsKeyPath { get; set; }
    public IPAddress? IceLocalIp { get; set; }
    public IPAddress? StunServerIp { get; set; }
    public IPAddress? StunServerExtIp { get; set; }
    /// <summary>Legacy meaning: true = coturn REST shared-secret scheme, false = static user/password.</summary>
    public bool TurnSharedSecretScheme { get; set; }
    public string? TurnUserName { get; set; }
    public string? TurnPassword { get; set; }
    public string? TurnSharedSecret { get; set; }
    public int TurnClientTtlSeconds { get; set; } = 86400;

    // [RTP]
    public int PliMaxIntervalSeconds { get; set; } = 3;
    public bool AutoBitrate { get; set; } = true;
    public int MinVideoBps { get; set; } = 200_000;
    public int MaxVideoBps { get; set; } = 1_000_000;
    /// <summary>[RTP] TRANSCODE: when H.264 is re-encoded for RTMP (auto = the legacy Constrained Baseline rule).</summary>
    public Engine.Codec.TranscodePolicy Transcode { get; set; } = Engine.Codec.TranscodePolicy.Auto;
    /// <summary>[RTP] RTMP_CLIENT: ours (engine) or libavformat's (ffmpeg) for rtmp:// URLs.</summary>
    public Engine.Codec.RtmpClient RtmpClient { get; set; } = Engine.Codec.RtmpClient.Engine;
    /// <summary>[RTP] RTMP_SEND_MS: how often our RTMP client sends each output's pending bytes.</summary>
    public int RtmpSendMillis { get; set; } = Engine.Codec.RtmpClientSettings.DefaultSendIntervalMillis;
    /// <summary>[RTP] TRANSCODE_GOP: keyframe interval of the H.264 encoder, in frames.</summary>
    public int TranscodeGopFrames { get; set; } = 60;
    /// <summary>[RTP] TRANSCODE_BPS: target bit rate of the H.264 encoder; 0 = RTP_MAX_VIDEO_BPS.</summary>
    public int TranscodeBps { get; set; }
    /// <summary>[WEBRTC] RECORDDIR: where streams are recorded as {stream}.flv when RTP2RTMPBASEURL is not set.</summary>
    public string RecordDirectory { get; set; } = "recordings";
    public bool SimulateLoss { get; set; }
    /// <summary>[RTP] RTP_TEST_SEED: seeds RTP_TEST's bursts (tests: the same packets of each stream lost in every run); a random seed per session when not set.</summary>
    public int? LossSeed { get; set; }
    /// <summary>[RTP] RTP_PLAY_LOSS: percent of every player's outgoing media packets dropped as they leave (0: none), RTP_TEST's counterpart on the send side.</summary>
    public int PlayLossPercent { get; set; }
    /// <summary>[RTP] RTP_PLAY_LOSS_SEED: seeds that drop, the same for every player.</summary>
    public int PlayLossSeed { get; set; } = 1;

    // [EXT]
    public string? ExtSetStatusUrl { get; set; }
    public string? ExtSyncUrl { get; set; }
    public int ExtThreadCount { get; set; } = 1;

    /// <summary>[TURN]: our TURN server, with coturn's option names; null when the section is absent (no server).</summary>
    public TurnConfig? Turn { get; set; }

    /// <summary>Unknown keys and repeated keys: reported, not fatal.</summary>
    public List<string> Warnings { get; } = new();

    public static EngineConfig Default() => Parse(DefaultConfig.Text);

    /// <summary>Parses and validates; throws <see cref="ConfigException"/> naming the key on a bad value.</summary>
    public static EngineConfig Parse(string iniText)
    {
        if (!IniDocument.TryParse(iniText, out var doc, out var error))
            throw new ConfigException("config: " + error);
        var config = new EngineConfig();
        config.Warnings.AddRange(doc.Warnings);
        if (doc.Sections.Contains("TURN"))
            config.Turn = new TurnConfig();
        foreach (var entry in doc.Entries)
            ConfigKeys.Apply(config, entry);
        config.Validate();
        return config;
    }

    private void Validate()
    {
        if (MinVideoBps > MaxVideoBps)
            throw new ConfigException($"config: [RTP] RTP_MIN_VIDEO_BPS ({MinVideoBps}) is above RTP_MAX_VIDEO_BPS ({MaxVideoBps})");
        if (WebSocketPort == HttpPort)
            throw new ConfigException($"config: [WEBSOCKET] PORT {WebSocketPort} is the same as [BASE] PORT (the HTTP port already serves /ws)");
        if ((DtlsCertificatePath == null) != (DtlsKeyPath == null))
            throw new ConfigException("config: [WEBRTC] DTLSCER and DTLSKEY go together: set both or neither");
        if (TurnSharedSecretScheme && string.IsNullOrEmpty(TurnSharedSecret))
            throw new ConfigException("config: [WEBRTC] TURNSTATIC=1 (shared-secret scheme) needs TURNSHARESECRET");
        if (Turn is { } t)
            ConfigKeys.ValidateTurn(t);
    }
}
