using System.Globalization;
using System.Net;
using System.Text;

namespace Engine.Host.Config;

/// <summary>
/// What a reload (SIGHUP, <c>GET /reload</c>) may change in a running server. Every key is either
/// live (copied into the running <see cref="EngineConfig"/>, which every reader holds, and so
/// taken by the next session, token, output or log line) or needs a restart (sockets, the
/// certificate, the log folder, what start-up checks or builds once). Keys are compared by their
/// parsed values, so a file that only adds a comment or spells a default changes nothing.
/// </summary>
public static class ConfigReload
{
    /// <summary>One key: its name as operators write it, its value, and how it is applied live (null: restart).</summary>
    private sealed record Key(string Name, Func<EngineConfig, string> Value, Action<EngineConfig, EngineConfig>? Apply);

    private static readonly Key[] Keys =
    [
        Restart("BASE", "PORT", c => c.HttpPort),
        Restart("BASE", "MAXCLIENT", c => c.MaxClient), // Kestrel's connection limit is set once
        Restart("BASE", "MAXHANDLETHREAD", c => c.MaxHandleThread),
        Restart("BASE", "MAXQUERYPERCOPY", c => c.MaxQueryPerCopy),
        Restart("BASE", "TIMEOUT", c => c.TimeoutSeconds),
        Live("BASE", "STATETIME", c => c.StateTimeSeconds, (r, f) => r.StateTimeSeconds = f.StateTimeSeconds),
        Restart("BASE", "PID", c => c.PidFile),
        Live("LOG", "LOGLEVEL", c => c.LogLevel, (r, f) => r.LogLevel = f.LogLevel),
        Restart("LOG", "LOGDIR", c => c.LogDir),
        Live("LOG", "DEBUGMODE", c => c.DebugMode, (r, f) => r.DebugMode = f.DebugMode),
        Restart("WEBSOCKET", "PORT", c => c.WebSocketPort),
        Restart("WEBRTC", "WEBRTCPORTSTART", c => c.WebRtcPort),
        Live("WEBRTC", "WEBRTCMAXCLIENT", c => c.WebRtcMaxClient, (r, f) => r.WebRtcMaxClient = f.WebRtcMaxClient),
        // The outputs: start-up loads libavformat only when they need it.
        Restart("WEBRTC", "RTP2RTMPSHELL", c => c.Rtp2RtmpShell),
        Restart("WEBRTC", "RTP2RTMPBASEURL", c => c.Rtp2RtmpBaseUrl),
        Restart("WEBRTC", "RTP2RTMPBASERECORDURL", c => c.Rtp2RtmpBaseRecordUrl),
        Restart("WEBRTC", "RTMP2RTPSHELL", c => c.Rtmp2RtpShell),
        Live("WEBRTC", "RTMP2RTPBASEURL", c => c.Rtmp2RtpBaseUrl, (r, f) => r.Rtmp2RtpBaseUrl = f.Rtmp2RtpBaseUrl),
        // Read by HTTP threads without a lock: the table is not swapped under them.
        new("[WEBRTC] RTMP2RTPBASEURL_<server_id>", c => string.Join(" ", c.Rtmp2RtpBaseUrlByServerId.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value)), null),
        Restart("WEBRTC", "DTLSCER", c => c.DtlsCertificatePath),
        Restart("WEBRTC", "DTLSKEY", c => c.DtlsKeyPath),
        Restart("WEBRTC", "ICELOCALIP", c => c.IceLocalIp),
        Restart("WEBRTC", "STUNSERVERIP", c => c.StunServerIp),
        Live("WEBRTC", "STUNSERVEREXTIP", c => c.StunServerExtIp, (r, f) => r.StunServerExtIp = f.StunServerExtIp),
        Live("WEBRTC", "TURNSTATIC", c => c.TurnSharedSecretScheme, (r, f) => r.TurnSharedSecretScheme = f.TurnSharedSecretScheme),
        Live("WEBRTC", "TURNUSERNAME", c => c.TurnUserName, (r, f) => r.TurnUserName = f.TurnUserName),
        Live("WEBRTC", "TURNPASSWORD", c => c.TurnPassword, (r, f) => r.TurnPassword = f.TurnPassword),
        Live("WEBRTC", "TURNSHARESECRET", c => c.TurnSharedSecret, (r, f) => r.TurnSharedSecret = f.TurnSharedSecret),
        Live("WEBRTC", "TURNCLIENTTTL", c => c.TurnClientTtlSeconds, (r, f) => r.TurnClientTtlSeconds = f.TurnClientTtlSeconds),
        Live("WEBRTC", "RECORDDIR", c => c.RecordDirectory, (r, f) => r.RecordDirectory = f.RecordDirectory),
        Live("RTP", "RTP_PLI_MAX_INTERVAL", c => c.PliMaxIntervalSeconds, (r, f) => r.PliMaxIntervalSeconds = f.PliMaxIntervalSeconds),
        Live("RTP", "RTP_AUTO_BITRATE", c => c.AutoBitrate, (r, f) => r.AutoBitrate = f.AutoBitrate),
        Live("RTP", "RTP_MIN_VIDEO_BPS", c => c.MinVideoBps, (r, f) => r.MinVideoBps = f.MinVideoBps),
        Live("RTP", "RTP_MAX_VIDEO_BPS", c => c.MaxVideoBps, (r, f) => r.MaxVideoBps = f.MaxVideoBps),
        Live("RTP", "RTP_TEST", c => c.SimulateLoss, (r, f) => r.SimulateLoss = f.SimulateLoss),
        Live("RTP", "RTP_TEST_SEED", c => c.LossSeed, (r, f) => r.LossSeed = f.LossSeed),
        Live("RTP", "RTP_PLAY_LOSS", c => c.PlayLossPercent, (r, f) => r.PlayLossPercent = f.PlayLossPercent),
        Live("RTP", "RTP_PLAY_LOSS_SEED", c => c.PlayLossSeed, (r, f) => r.PlayLossSeed = f.PlayLossSeed),
        Live("RTP", "TRANSCODE", c => c.Transcode, (r, f) => r.Transcode = f.Transcode),
        Restart("RTP", "RTMP_CLIENT", c => c.RtmpClient),
        Live("RTP", "RTMP_SEND_MS", c => c.RtmpSendMillis, (r, f) => r.RtmpSendMillis = f.RtmpSendMillis),
        Live("RTP", "TRANSCODE_GOP", c => c.TranscodeGopFrames, (r, f) => r.TranscodeGopFrames = f.TranscodeGopFrames),
        Live("RTP", "TRANSCODE_BPS", c => c.TranscodeBps, (r, f) => r.TranscodeBps = f.TranscodeBps),
        // The hooks take these through ServerLifecycle.ConfigReloaded (HookService.Apply).
        Live("EXT", "EXTSETSTATUSPATH", c => c.ExtSetStatusUrl, (r, f) => r.ExtSetStatusUrl = f.ExtSetStatusUrl),
        Live("EXT", "EXTSYNCPATH", c => c.ExtSyncUrl, (r, f) => r.ExtSyncUrl = f.ExtSyncUrl),
        Live("EXT", "EXTRTHREADCOUNT", c => c.ExtThreadCount, (r, f) => r.ExtThreadCount = f.ExtThreadCount),
        // Our TURN server binds its sockets and keys its credentials once.
        new("[TURN]", TurnValue, null),
    ];

    /// <summary>The names the table covers: every INI key but the [TURN] ones, which go as one.</summary>
    public static IEnumerable<string> KeyNames => Keys.Select(k => k.Name);

    /// <summary>Whether a change of <paramref name="name"/> (as in <see cref="KeyNames"/>) applies without a restart.</summary>
    public static bool IsLive(string name) => Keys.FirstOrDefault(k => k.Name == name)?.Apply != null;

    /// <summary>The keys whose value differs: those applied live, and those that wait for a restart.</summary>
    public static ConfigDiff Diff(EngineConfig running, EngineConfig fresh)
    {
        var live = new List<string>();
        var restart = new List<string>();
        foreach (var k in Keys)
        {
            if (k.Value(running) == k.Value(fresh))
                continue;
            (k.Apply != null ? live : restart).Add(k.Name);
        }
        return new ConfigDiff(live, restart);
    }

    /// <summary>Copies the live keys that differ from <paramref name="fresh"/> into <paramref name="running"/>; returns the diff.</summary>
    public static ConfigDiff Apply(EngineConfig running, EngineConfig fresh)
    {
        var diff = Diff(running, fresh);
        foreach (var k in Keys)
            if (k.Apply != null && diff.Live.Contains(k.Name))
                k.Apply(running, fresh);
        return diff;
    }

    private static Key Live<T>(string section, string name, Func<EngineConfig, T> value, Action<EngineConfig, EngineConfig> apply) =>
        new($"[{section}] {name}", c => Text(value(c)), apply);

    private static Key Restart<T>(string section, string name, Func<EngineConfig, T> value) =>
        new($"[{section}] {name}", c => Text(value(c)), null);

    private static string Text(object? v) => v switch
    {
        null => "\0", // unset differs from an empty string
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static string TurnValue(EngineConfig c)
    {
        if (c.Turn is not { } t)
            return "\0";
        var sb = new StringBuilder();
        sb.Append(t.ListeningPort).Append('|').Append(t.TlsListeningPort).Append('|')
            .AppendJoin(",", t.ListeningIps).Append('|').AppendJoin(",", t.RelayIps).Append('|')
            .AppendJoin(",", t.ExternalIps.Select(e => e.Public + "/" + e.Private)).Append('|')
            .Append(t.MinPort).Append('|').Append(t.MaxPort).Append('|').Append(t.Realm).Append('|')
            .Append(t.LongTermCredentials).Append('|')
            .AppendJoin(",", t.Users.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => u.Key + ":" + u.Value)).Append('|')
            .Append(t.UseAuthSecret).Append('|').Append(t.StaticAuthSecret).Append('|')
            .Append(t.CertificatePath).Append('|').Append(t.KeyPath).Append('|')
            .AppendJoin(",", t.DeniedPeers).Append('|').AppendJoin(",", t.AllowedPeers).Append('|')
            .Append(t.NoMulticastPeers).Append('|').Append(t.AllowLoopbackPeers).Append('|')
            .Append(t.UserQuota).Append('|').Append(t.TotalQuota).Append('|').Append(t.MaxBps).Append('|')
            .Append(t.StaleNonceSeconds).Append('|').Append(t.MaxAllocateTimeoutSeconds).Append('|').Append(t.NoUdp).Append(t.NoTcp).Append(t.NoTls).Append(t.NoStun);
        return sb.ToString();
    }
}
