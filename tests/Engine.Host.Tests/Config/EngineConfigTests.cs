using System.Net;
using Engine.Host.Config;

namespace Engine.Host.Tests.Config;

public class EngineConfigTests
{
    [Fact]
    public void EmbeddedDefaultsAreTheLegacyDefaults()
    {
        var c = EngineConfig.Default();
        Assert.Equal(9880, c.HttpPort);
        Assert.Equal(4, c.LogLevel);
        Assert.Equal(3, c.PliMaxIntervalSeconds);
        Assert.Equal(200_000, c.MinVideoBps);
        Assert.Equal(1_000_000, c.MaxVideoBps);
        Assert.Null(c.WebSocketPort);
        Assert.Null(c.Rtp2RtmpBaseUrl);
        Assert.Empty(c.Warnings);
    }

    [Fact]
    public void ALegacyConfigFileIsRead()
    {
        const string ini = """
            # legacy mediaserver.config
            [BASE]
            PORT = 8080
            MAXCLIENT=50
            PID=/run/engine.pid
            [LOG]
            LOGLEVEL=6
            DEBUGMODE=1
            [WEBSOCKET]
            PORT=8081
            [WEBRTC]
            WEBRTCPORTSTART=20000
            RTP2RTMPBASEURL=rtmp://127.0.0.1:1935/live/
            RTMP2RTPBASEURL=rtmp://127.0.0.1/live
            RTMP2RTPBASEURL_7=rtmp://10.1.2.3/live
            ICELOCALIP=0.0.0.0
            STUNSERVEREXTIP=2001:db8::1
            TURNSTATIC=1
            TURNSHARESECRET=s3cret
            TURNCLIENTTTL=3600
            [RTP]
            RTP_MAX_VIDEO_BPS=2500000
            RTP_AUTO_BITRATE=0
            RTMP_CLIENT=ffmpeg
            RTMP_SEND_MS=50
            [EXT]
            EXTSETSTATUSPATH=http://127.0.0.1:9000/status
            EXTSYNCPATH=
            """;
        var c = EngineConfig.Parse(ini);
        Assert.Equal(8080, c.HttpPort);
        Assert.Equal(50, c.MaxClient);
        Assert.Equal("/run/engine.pid", c.PidFile);
        Assert.Equal(6, c.LogLevel);
        Assert.True(c.DebugMode);
        Assert.Equal(8081, c.WebSocketPort);
        Assert.Equal(20000, c.WebRtcPort);
        Assert.Equal("rtmp://127.0.0.1:1935/live", c.Rtp2RtmpBaseUrl);
        Assert.Equal("rtmp://10.1.2.3/live", c.Rtmp2RtpBaseUrlByServerId["7"]);
        Assert.Equal(IPAddress.Any, c.IceLocalIp);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), c.StunServerExtIp);
        Assert.True(c.TurnSharedSecretScheme);
        Assert.Equal("s3cret", c.TurnSharedSecret);
        Assert.Equal(3600, c.TurnClientTtlSeconds);
        Assert.Equal(2_500_000, c.MaxVideoBps);
        Assert.False(c.AutoBitrate);
        Assert.Equal(Engine.Codec.RtmpClient.Ffmpeg, c.RtmpClient);
        Assert.Equal(Engine.Codec.RtmpClient.Engine, EngineConfig.Parse("").RtmpClient);
        Assert.Equal(50, c.RtmpSendMillis);
        Assert.Equal(200, EngineConfig.Parse("").RtmpSendMillis);
        Assert.Equal("http://127.0.0.1:9000/status", c.ExtSetStatusUrl);
        Assert.Null(c.ExtSyncUrl);
        Assert.Empty(c.Warnings);
    }

    [Theory]
    [InlineData("[BASE]\nPORT=70000", "[BASE] PORT")]
    [InlineData("[BASE]\nPORT=abc", "[BASE] PORT")]
    [InlineData("[LOG]\nLOGLEVEL=9", "[LOG] LOGLEVEL")]
    [InlineData("[LOG]\nDEBUGMODE=yes", "[LOG] DEBUGMODE")]
    [InlineData("[WEBRTC]\nICELOCALIP=1.2.3", "[WEBRTC] ICELOCALIP")]
    [InlineData("[WEBRTC]\nRTP2RTMPBASEURL=http://x/live", "[WEBRTC] RTP2RTMPBASEURL")]
    [InlineData("[EXT]\nEXTSYNCPATH=ftp://x/", "[EXT] EXTSYNCPATH")]
    [InlineData("[RTP]\nRTP_MIN_VIDEO_BPS=3000000", "RTP_MIN_VIDEO_BPS")]
    [InlineData("[RTP]\nRTMP_CLIENT=librtmp", "[RTP] RTMP_CLIENT")]
    [InlineData("[RTP]\nRTMP_SEND_MS=5", "[RTP] RTMP_SEND_MS")]
    [InlineData("[WEBRTC]\nTURNSTATIC=1", "TURNSHARESECRET")]
    [InlineData("[WEBRTC]\nDTLSCER=/etc/cert.pem", "DTLSKEY")]
    [InlineData("[BASE]\nPORT=9000\n[WEBSOCKET]\nPORT=9000", "[WEBSOCKET] PORT")]
    public void ABadValueStopsStartUpNamingTheKey(string ini, string named)
    {
        var e = Assert.Throws<ConfigException>(() => EngineConfig.Parse(ini));
        Assert.Contains(named, e.Message);
    }

    [Theory]
    [InlineData("", true)] // recordings to files
    [InlineData("[WEBRTC]\nRTP2RTMPBASEURL=rtmp://127.0.0.1/live", false)]
    [InlineData("[WEBRTC]\nRTP2RTMPBASEURL=rtmp://127.0.0.1/live\nRTP2RTMPBASERECORDURL=rtmp://127.0.0.1/rec", false)]
    [InlineData("[WEBRTC]\nRTP2RTMPBASEURL=rtmp://127.0.0.1/live\nRTP2RTMPBASERECORDURL=rtmps://127.0.0.1/rec", true)]
    [InlineData("[WEBRTC]\nRTP2RTMPBASEURL=rtmps://127.0.0.1/live", true)]
    [InlineData("[WEBRTC]\nRTP2RTMPBASEURL=rtmp://user:pw@127.0.0.1/live", true)]
    [InlineData("[WEBRTC]\nRTP2RTMPBASEURL=rtmp://127.0.0.1/live\n[RTP]\nRTMP_CLIENT=ffmpeg", true)]
    [InlineData("[WEBRTC]\nRTP2RTMPSHELL=/bin/true", false)]
    public void LibavformatIsLoadedOnlyWhenAnOutputNeedsIt(string ini, bool needed)
    {
        Assert.Equal(needed, Engine.Host.Media.StreamSinkFactory.NeedsLibavformat(EngineConfig.Parse(ini)));
    }

    [Theory]
    [InlineData("PORT=1", "outside any [SECTION]")]
    [InlineData("[BASE\nPORT=1", "line 1")]
    [InlineData("[BASE]\njust words", "line 2")]
    public void MalformedLinesAreReportedWithTheirLine(string ini, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => EngineConfig.Parse(ini));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void UnknownAndRepeatedKeysWarn()
    {
        var c = EngineConfig.Parse("[BASE]\nPORT=1000\nPORT=1001\nCOLOUR=blue\n[NEWSECTION]\nX=1\n");
        Assert.Equal(1001, c.HttpPort);
        Assert.Equal(3, c.Warnings.Count);
        Assert.Contains(c.Warnings, w => w.Contains("COLOUR"));
        Assert.Contains(c.Warnings, w => w.Contains("repeats line 2"));
    }

    [Fact]
    public void KeysAndSectionsAreCaseInsensitiveAndCommentsIgnored()
    {
        var c = EngineConfig.Parse("; a comment\n[base]\n  port = 1234  \n# PORT=1\n");
        Assert.Equal(1234, c.HttpPort);
    }

    [Fact]
    public void RandomInputNeverThrowsAnythingButConfigException()
    {
        var rng = new Random(7);
        var alphabet = "[]=#;\n\r ABCPORTLOG0123456789.:/\t".ToCharArray();
        for (int i = 0; i < 2000; i++)
        {
            var chars = new char[rng.Next(0, 200)];
            for (int j = 0; j < chars.Length; j++) chars[j] = alphabet[rng.Next(alphabet.Length)];
            try { EngineConfig.Parse(new string(chars)); }
            catch (ConfigException) { }
        }
    }

    [Fact]
    public void TheCliReportsABadConfigByKey()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "[LOG]\nLOGLEVEL=42\n");
            var o = new StringWriter(); var e = new StringWriter();
            Assert.Equal(2, Cli.Run(new[] { "--config", path }, o, e));
            Assert.Contains("[LOG] LOGLEVEL", e.ToString());
        }
        finally { File.Delete(path); }
    }
}
