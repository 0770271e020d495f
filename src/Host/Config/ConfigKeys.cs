using System.Globalization;
using System.Net;
using Engine.Codec;

namespace Engine.Host.Config;

/// <summary>The table of known keys: section, name, and how a value is checked and stored.</summary>
internal static class ConfigKeys
{
    private delegate void Setter(EngineConfig config, IniEntry entry);

    private static readonly Dictionary<(string, string), Setter> Known = Build();

    public static void Apply(EngineConfig config, IniEntry entry)
    {
        var key = (entry.Section.ToUpperInvariant(), entry.Key.ToUpperInvariant());
        if (Known.TryGetValue(key, out var set))
        {
            set(config, entry);
            return;
        }
        if (key.Item1 == "WEBRTC" && key.Item2.StartsWith("RTMP2RTPBASEURL_", StringComparison.Ordinal) && key.Item2.Length > 16)
        {
            config.Rtmp2RtpBaseUrlByServerId[entry.Key[16..]] = Url(entry, "rtmp");
            return;
        }
        config.Warnings.Add($"config line {entry.Line}: unknown key [{entry.Section}] {entry.Key} ignored");
    }

    private static Dictionary<(string, string), Setter> Build() => new()
    {
        [("BASE", "PORT")] = (c, e) => c.HttpPort = Port(e),
        [("BASE", "MAXCLIENT")] = (c, e) => c.MaxClient = Int(e, 1, 1_000_000),
        [("BASE", "MAXHANDLETHREAD")] = (c, e) => c.MaxHandleThread = Int(e, 1, 1024),
        [("BASE", "MAXQUERYPERCOPY")] = (c, e) => c.MaxQueryPerCopy = Int(e, 0, 1_000_000),
        [("BASE", "TIMEOUT")] = (c, e) => c.TimeoutSeconds = Int(e, 0, 86_400),
        [("BASE", "STATETIME")] = (c, e) => c.StateTimeSeconds = Int(e, 0, 86_400 * 7),
        [("BASE", "PID")] = (c, e) => c.PidFile = Text(e),
        [("LOG", "LOGLEVEL")] = (c, e) => c.LogLevel = Int(e, 0, 6),
        [("LOG", "LOGDIR")] = (c, e) => c.LogDir = Text(e),
        [("LOG", "DEBUGMODE")] = (c, e) => c.DebugMode = Bool(e),
        [("WEBSOCKET", "PORT")] = (c, e) => c.WebSocketPort = e.Value.Length == 0 ? null : Port(e),
        [("WEBRTC", "WEBRTCPORTSTART")] = (c, e) => c.WebRtcPort = Port(e),
        [("WEBRTC", "WEBRTCMAXCLIENT")] = (c, e) => c.WebRtcMaxClient = Int(e, 1, 1_000_000),
        [("WEBRTC", "RTP2RTMPSHELL")] = (c, e) => c.Rtp2RtmpShell = Text(e),
        [("WEBRTC", "RTP2RTMPBASEURL")] = (c, e) => c.Rtp2RtmpBaseUrl = OptionalUrl(e, "rtmp", "rtmps"),
        [("WEBRTC", "RTP2RTMPBASERECORDURL")] = (c, e) => c.Rtp2RtmpBaseRecordUrl = OptionalUrl(e, "rtmp", "rtmps"),
        [("WEBRTC", "RTMP2RTPSHELL")] = (c, e) =>
        {
            c.Rtmp2RtpShell = Text(e);
            if (!string.IsNullOrEmpty(c.Rtmp2RtpShell)) // RTMP playback is pulled by our own client now
                c.Warnings.Add($"config line {e.Line}: [WEBRTC] RTMP2RTPSHELL is ignored: RTMP streams are pulled from RTMP2RTPBASEURL by the engine itself");
        },
        [("WEBRTC", "RTMP2RTPBASEURL")] = (c, e) => c.Rtmp2RtpBaseUrl = OptionalUrl(e, "rtmp"),
        [("WEBRTC", "DTLSCER")] = (c, e) => c.DtlsCertificatePath = Text(e),
        [("WEBRTC", "DTLSKEY")] = (c, e) => c.DtlsKeyPath = Text(e),
        [("WEBRTC", "ICELOCALIP")] = (c, e) => c.IceLocalIp = Ip(e),
        [("WEBRTC", "STUNSERVERIP")] = (c, e) => c.StunServerIp = Ip(e),
        [("WEBRTC", "STUNSERVEREXTIP")] = (c, e) => c.StunServerExtIp = Ip(e),
        [("WEBRTC", "TURNSTATIC")] = (c, e) => c.TurnSharedSecretScheme = Bool(e),
        [("WEBRTC", "TURNUSERNAME")] = (c, e) => c.TurnUserName = Text(e),
        [("WEBRTC", "TURNPASSWORD")] = (c, e) => c.TurnPassword = Text(e),
        [("WEBRTC", "TURNSHARESECRET")] = (c, e) => c.TurnSharedSecret = Text(e),
        [("WEBRTC", "TURNCLIENTTTL")] = (c, e) => c.TurnClientTtlSeconds = Int(e, 1, 86_400 * 365),
        [("RTP", "RTP_PLI_MAX_INTERVAL")] = (c, e) => c.PliMaxIntervalSeconds = Int(e, 1, 3600),
        [("RTP", "RTP_AUTO_BITRATE")] = (c, e) => c.AutoBitrate = Bool(e),
        [("RTP", "RTP_MIN_VIDEO_BPS")] = (c, e) => c.MinVideoBps = Int(e, 10_000, 100_000_000),
        [("RTP", "RTP_MAX_VIDEO_BPS")] = (c, e) => c.MaxVideoBps = Int(e, 10_000, 100_000_000),
        [("RTP", "RTP_TEST")] = (c, e) => c.SimulateLoss = Bool(e),
        [("RTP", "RTP_PLAY_LOSS")] = (c, e) => c.PlayLossPercent = Int(e, 0, 50),
        [("RTP", "RTP_PLAY_LOSS_SEED")] = (c, e) => c.PlayLossSeed = Int(e, int.MinValue, int.MaxValue),
        [("RTP", "TRANSCODE")] = (c, e) => c.Transcode = e.Value.ToLowerInvariant() switch
        {
            "auto" or "" => TranscodePolicy.Auto,
            "passthrough" => TranscodePolicy.Passthrough,
            "always" => TranscodePolicy.Always,
            _ => throw Bad(e, "auto, passthrough or always"),
        },
        [("RTP", "RTMP_CLIENT")] = (c, e) => c.RtmpClient = e.Value.ToLowerInvariant() switch
        {
            "engine" or "" => RtmpClient.Engine,
            "ffmpeg" => RtmpClient.Ffmpeg,
            _ => throw Bad(e, "engine or ffmpeg"),
        },
        [("RTP", "RTMP_SEND_MS")] = (c, e) => c.RtmpSendMillis = Int(e, 10, 1000),
        [("RTP", "TRANSCODE_GOP")] = (c, e) => c.TranscodeGopFrames = Int(e, 1, 1000),
        [("RTP", "TRANSCODE_BPS")] = (c, e) => c.TranscodeBps = Int(e, 50_000, 100_000_000),
        [("WEBRTC", "RECORDDIR")] = (c, e) => c.RecordDirectory = Text(e) ?? "recordings",
        [("EXT", "EXTSETSTATUSPATH")] = (c, e) => c.ExtSetStatusUrl = OptionalUrl(e, "http", "https"),
        [("EXT", "EXTSYNCPATH")] = (c, e) => c.ExtSyncUrl = OptionalUrl(e, "http", "https"),
        [("EXT", "EXTRTHREADCOUNT")] = (c, e) => c.ExtThreadCount = Int(e, 1, 64),
    };

    private static ConfigException Bad(IniEntry e, string expected) =>
        new($"config line {e.Line}: [{e.Section}] {e.Key}={e.Value}: expected {expected}");

    private static int Int(IniEntry e, int min, int max)
    {
        if (!int.TryParse(e.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw Bad(e, $"an integer from {min} to {max}");
        return v;
    }

    private static int Port(IniEntry e) => Int(e, 1, 65535);

    private static bool Bool(IniEntry e) => e.Value switch
    {
        "0" => false,
        "1" => true,
        _ => throw Bad(e, "0 or 1"),
    };

    private static string? Text(IniEntry e) => e.Value.Length == 0 ? null : e.Value;

    private static IPAddress? Ip(IniEntry e)
    {
        if (e.Value.Length == 0)
            return null;
        // IPAddress.TryParse accepts inet_aton shorthands like "1.2.3"; an operator meant four parts.
        bool dottedQuad = e.Value.Contains(':') || e.Value.Count(ch => ch == '.') == 3;
        if (!dottedQuad || !IPAddress.TryParse(e.Value, out var ip))
            throw Bad(e, "an IPv4 or IPv6 address");
        return ip;
    }

    private static string? OptionalUrl(IniEntry e, params string[] schemes) => e.Value.Length == 0 ? null : Url(e, schemes);

    private static string Url(IniEntry e, params string[] schemes)
    {
        if (!Uri.TryCreate(e.Value, UriKind.Absolute, out var uri) || Array.IndexOf(schemes, uri.Scheme) < 0 || uri.Host.Length == 0)
            throw Bad(e, "a URL starting with " + string.Join(" or ", schemes.Select(s => s + "://")));
        return e.Value.TrimEnd('/');
    }
}
