using System.Globalization;
using System.Net;
using Engine.Codec;
using Engine.Ice.Turn;

namespace Engine.Host.Config;

/// <summary>The table of known keys: section, name, and how a value is checked and stored.</summary>
internal static class ConfigKeys
{
    private delegate void Setter(EngineConfig config, IniEntry entry);

    private static readonly Dictionary<(string, string), Setter> Known = Build();

    /// <summary>Every known (section, key), upper case ([TURN] keys too).</summary>
    public static IEnumerable<(string Section, string Key)> Names => Known.Keys;

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
        [("RTP", "RTP_TEST_SEED")] = (c, e) => c.LossSeed = Int(e, int.MinValue, int.MaxValue),
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
        // [TURN]: coturn's names and value forms, so a turnserver.conf can be pasted under the header.
        [("TURN", "LISTENING-PORT")] = (c, e) => T(c).ListeningPort = Port(e),
        [("TURN", "TLS-LISTENING-PORT")] = (c, e) => T(c).TlsListeningPort = Port(e),
        [("TURN", "LISTENING-IP")] = (c, e) => T(c).ListeningIps.Add(Ip(e) ?? throw Bad(e, "an IPv4 or IPv6 address")),
        [("TURN", "RELAY-IP")] = (c, e) => T(c).RelayIps.Add(Ip(e) ?? throw Bad(e, "an IPv4 or IPv6 address")),
        [("TURN", "EXTERNAL-IP")] = (c, e) => T(c).ExternalIps.Add(ExternalIp(e)),
        [("TURN", "MIN-PORT")] = (c, e) => T(c).MinPort = Port(e),
        [("TURN", "MAX-PORT")] = (c, e) => T(c).MaxPort = Port(e),
        [("TURN", "REALM")] = (c, e) => T(c).Realm = Text(e) ?? throw Bad(e, "a realm"),
        [("TURN", "LT-CRED-MECH")] = (c, e) => T(c).LongTermCredentials = Flag(e),
        [("TURN", "USER")] = (c, e) => AddUser(T(c), e),
        [("TURN", "USE-AUTH-SECRET")] = (c, e) => T(c).UseAuthSecret = Flag(e),
        [("TURN", "STATIC-AUTH-SECRET")] = (c, e) => T(c).StaticAuthSecret = Text(e),
        [("TURN", "CERT")] = (c, e) => T(c).CertificatePath = Text(e),
        [("TURN", "PKEY")] = (c, e) => T(c).KeyPath = Text(e),
        [("TURN", "DENIED-PEER-IP")] = (c, e) => T(c).DeniedPeers.AddRange(PeerRange(e)),
        [("TURN", "ALLOWED-PEER-IP")] = (c, e) => T(c).AllowedPeers.AddRange(PeerRange(e)),
        [("TURN", "NO-MULTICAST-PEERS")] = (c, e) => T(c).NoMulticastPeers = Flag(e),
        [("TURN", "ALLOW-LOOPBACK-PEERS")] = (c, e) => T(c).AllowLoopbackPeers = Flag(e),
        [("TURN", "USER-QUOTA")] = (c, e) => T(c).UserQuota = Int(e, 0, 1_000_000),
        [("TURN", "TOTAL-QUOTA")] = (c, e) => T(c).TotalQuota = Int(e, 0, 1_000_000),
        [("TURN", "MAX-BPS")] = (c, e) => T(c).MaxBps = Int(e, 0, int.MaxValue),
        [("TURN", "STALE-NONCE")] = (c, e) => T(c).StaleNonceSeconds = e.Value.Length == 0 ? 600 : Int(e, 1, 86_400),
        [("TURN", "MAX-ALLOCATE-TIMEOUT")] = (c, e) => T(c).MaxAllocateTimeoutSeconds = Int(e, 1, 86_400),
        [("TURN", "NO-UDP")] = (c, e) => T(c).NoUdp = Flag(e),
        [("TURN", "NO-TCP")] = (c, e) => T(c).NoTcp = Flag(e),
        [("TURN", "NO-TLS")] = (c, e) => T(c).NoTls = Flag(e),
        [("TURN", "NO-STUN")] = (c, e) => T(c).NoStun = Flag(e),
    };

    private static TurnConfig T(EngineConfig c) => c.Turn ??= new TurnConfig();

    // coturn: a bare name sets the flag; a value may say so explicitly.
    private static bool Flag(IniEntry e) => e.Value.ToLowerInvariant() switch
    {
        "" or "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => throw Bad(e, "no value, or 1/0, true/false, yes/no, on/off"),
    };

    private static void AddUser(TurnConfig t, IniEntry e)
    {
        int colon = e.Value.IndexOf(':');
        if (colon <= 0 || colon == e.Value.Length - 1)
            throw Bad(e, "name:password or name:0x<32 hex digits>");
        string name = e.Value[..colon], secret = e.Value[(colon + 1)..];
        if (secret.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && (secret.Length != 34 || secret.AsSpan(2).ContainsAnyExcept("0123456789abcdefABCDEF")))
            throw Bad(e, "a key of 0x and 32 hex digits (MD5 of name:realm:password)");
        t.Users[name] = secret;
    }

    // "public" or "public/private" (coturn's 1:1 NAT form).
    private static (IPAddress, IPAddress?) ExternalIp(IniEntry e)
    {
        int slash = e.Value.IndexOf('/');
        string pub = slash < 0 ? e.Value : e.Value[..slash];
        if (!IPAddress.TryParse(pub, out var p))
            throw Bad(e, "an address, or public/private");
        IPAddress? priv = null;
        if (slash >= 0 && !IPAddress.TryParse(e.Value[(slash + 1)..], out priv))
            throw Bad(e, "an address, or public/private");
        return (p, priv);
    }

    // coturn writes "a.b.c.d", "first-last"; a CIDR prefix is accepted too. A range becomes the prefixes that cover it exactly.
    private static List<TurnIpRange> PeerRange(IniEntry e)
    {
        string v = e.Value.Trim();
        int dash = v.IndexOf('-');
        if (dash < 0)
            return TurnIpRange.TryParse(v, out var single) ? new List<TurnIpRange> { single } : throw Bad(e, "an address, a CIDR prefix or first-last");
        if (!IPAddress.TryParse(v[..dash].Trim(), out var a) || !IPAddress.TryParse(v[(dash + 1)..].Trim(), out var b))
            throw Bad(e, "first-last with two addresses");
        if (a.IsIPv4MappedToIPv6)
            a = a.MapToIPv4();
        if (b.IsIPv4MappedToIPv6)
            b = b.MapToIPv4();
        if (a.AddressFamily != b.AddressFamily)
            throw Bad(e, "first-last of one address family");
        int bits = a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        UInt128 lo = ToNumber(a), hi = ToNumber(b);
        if (lo > hi)
            throw Bad(e, "first-last with first <= last");
        var ranges = new List<TurnIpRange>();
        while (lo <= hi && ranges.Count < 256)
        {
            // The largest aligned block starting at lo that ends at or before hi.
            int size = lo == 0 ? bits : Math.Min(bits, (int)UInt128.TrailingZeroCount(lo));
            while (size > 0 && (size >= 128 || lo + ((UInt128.One << size) - 1) > hi))
                size--;
            ranges.Add(new TurnIpRange(Engine.Ice.NetAddress.FromIPEndPoint(new IPEndPoint(FromNumber(lo, bits), 0)), bits - size));
            UInt128 next = lo + (UInt128.One << size);
            if (next == 0 || (bits == 32 && next > uint.MaxValue))
                break;
            lo = next;
        }
        return ranges;
    }

    private static UInt128 ToNumber(IPAddress ip)
    {
        var bytes = ip.GetAddressBytes();
        UInt128 n = 0;
        foreach (byte x in bytes)
            n = n << 8 | x;
        return n;
    }

    private static IPAddress FromNumber(UInt128 n, int bits)
    {
        var bytes = new byte[bits / 8];
        for (int i = bytes.Length - 1; i >= 0; i--, n >>= 8)
            bytes[i] = (byte)n;
        return new IPAddress(bytes);
    }

    public static void ValidateTurn(TurnConfig t)
    {
        if (t.MinPort > t.MaxPort)
            throw new ConfigException($"config: [TURN] min-port ({t.MinPort}) is above max-port ({t.MaxPort})");
        if (t.UseAuthSecret && string.IsNullOrEmpty(t.StaticAuthSecret))
            throw new ConfigException("config: [TURN] use-auth-secret needs static-auth-secret");
        if (!t.UseAuthSecret && t.Users.Count == 0)
            throw new ConfigException("config: [TURN] nothing is relayed without authentication: set lt-cred-mech with user=name:password, or use-auth-secret with static-auth-secret");
        if ((t.CertificatePath == null) != (t.KeyPath == null))
            throw new ConfigException("config: [TURN] cert and pkey go together: set both or neither");
        if (t.NoUdp && t.NoTcp && t.NoTls)
            throw new ConfigException("config: [TURN] no-udp, no-tcp and no-tls together leave no listener");
    }

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
