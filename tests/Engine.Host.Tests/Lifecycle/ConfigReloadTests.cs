using Engine.Host.Config;
using Engine.Host.Logging;

namespace Engine.Host.Tests.Lifecycle;

/// <summary>Which changed keys a reload applies live and which wait for a restart; a bad file changes nothing.</summary>
public sealed class ConfigReloadTests
{
    private const string Base = "[BASE]\nPORT=9880\nSTATETIME=60\n[LOG]\nLOGLEVEL=4\n[WEBRTC]\nWEBRTCPORTSTART=10000\nWEBRTCMAXCLIENT=100\nTURNSTATIC=0\nTURNUSERNAME=u\nTURNPASSWORD=p\n[RTP]\nRTP_PLI_MAX_INTERVAL=3\n";

    [Fact]
    public void EveryKnownKeyIsInTheTable()
    {
        var names = ConfigReload.KeyNames.ToHashSet();
        var engineKeys = typeof(EngineConfig).Assembly.GetType("Engine.Host.Config.ConfigKeys")!
            .GetProperty("Names")!.GetValue(null) as IEnumerable<(string Section, string Key)>;
        Assert.NotNull(engineKeys);
        var missing = engineKeys!.Where(k => k.Section != "TURN").Select(k => $"[{k.Section}] {k.Key}").Where(n => !names.Contains(n)).ToList();
        Assert.Empty(missing);
        Assert.Contains("[TURN]", names);
        Assert.Contains("[WEBRTC] RTMP2RTPBASEURL_<server_id>", names);
    }

    [Fact]
    public void TheSameSettingsWrittenDifferentlyChangeNothing()
    {
        var running = EngineConfig.Parse(Base);
        var fresh = EngineConfig.Parse("# a comment\n" + Base.Replace("LOGLEVEL=4", "loglevel=4") + "[EXT]\nEXTRTHREADCOUNT=1\n");
        Assert.True(ConfigReload.Diff(running, fresh).IsEmpty);
    }

    [Fact]
    public void LiveKeysAreCopiedAndRestartKeysOnlyReported()
    {
        var running = EngineConfig.Parse(Base);
        var fresh = EngineConfig.Parse(Base.Replace("LOGLEVEL=4", "LOGLEVEL=6").Replace("PORT=9880", "PORT=9990")
            .Replace("STATETIME=60", "STATETIME=5").Replace("WEBRTCMAXCLIENT=100", "WEBRTCMAXCLIENT=3")
            .Replace("WEBRTCPORTSTART=10000", "WEBRTCPORTSTART=10002").Replace("TURNPASSWORD=p", "TURNPASSWORD=q")
            .Replace("RTP_PLI_MAX_INTERVAL=3", "RTP_PLI_MAX_INTERVAL=7") + "[WEBRTC]\nICELOCALIP=127.0.0.1\nDTLSCER=/x.pem\nDTLSKEY=/x.key\n");
        var diff = ConfigReload.Apply(running, fresh);
        Assert.Equal(["[BASE] STATETIME", "[LOG] LOGLEVEL", "[WEBRTC] WEBRTCMAXCLIENT", "[WEBRTC] TURNPASSWORD", "[RTP] RTP_PLI_MAX_INTERVAL"], diff.Live);
        Assert.Equal(["[BASE] PORT", "[WEBRTC] WEBRTCPORTSTART", "[WEBRTC] DTLSCER", "[WEBRTC] DTLSKEY", "[WEBRTC] ICELOCALIP"], diff.Restart);
        Assert.Equal(6, running.LogLevel);
        Assert.Equal(5, running.StateTimeSeconds);
        Assert.Equal(3, running.WebRtcMaxClient);
        Assert.Equal("q", running.TurnPassword);
        Assert.Equal(7, running.PliMaxIntervalSeconds);
        // What needs a restart keeps its running value.
        Assert.Equal(9880, running.HttpPort);
        Assert.Equal(10000, running.WebRtcPort);
        Assert.Null(running.IceLocalIp);
        Assert.Null(running.DtlsCertificatePath);
        // Applied once, the same file is no change any more but for the restart keys.
        var again = ConfigReload.Diff(running, fresh);
        Assert.Empty(again.Live);
        Assert.Equal(diff.Restart, again.Restart);
    }

    [Fact]
    public void ATurnSectionAddedOrChangedNeedsARestart()
    {
        var running = EngineConfig.Parse(Base);
        string turn = "[TURN]\nlt-cred-mech\nuser=a:b\n";
        Assert.Equal(["[TURN]"], ConfigReload.Diff(running, EngineConfig.Parse(Base + turn)).Restart);
        var withTurn = EngineConfig.Parse(Base + turn);
        Assert.Equal(["[TURN]"], ConfigReload.Diff(withTurn, EngineConfig.Parse(Base + turn + "user=c:d\n")).Restart);
        Assert.True(ConfigReload.Diff(withTurn, EngineConfig.Parse(Base + turn)).IsEmpty);
        Assert.True(ConfigReload.IsLive("[LOG] LOGLEVEL"));
        Assert.False(ConfigReload.IsLive("[TURN]"));
    }
}

/// <summary>The reload itself: the file the server started with re-read, a bad one kept out, subscribers told.</summary>
[Collection("log")]
public sealed class ServerLifecycleTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "engine-reload-" + Guid.NewGuid().ToString("n")[..8] + ".config");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void AGoodFileIsAppliedAndSubscribersSeeTheRunningConfig()
    {
        File.WriteAllText(_path, "[LOG]\nLOGLEVEL=4\n[WEBRTC]\nWEBRTCMAXCLIENT=10\n");
        var running = EngineConfig.Parse(File.ReadAllText(_path));
        int applied = 0;
        var lifecycle = new ServerLifecycle(running, _path, _ => applied++);
        EngineConfig? seen = null;
        lifecycle.ConfigReloaded += c => seen = c;
        lifecycle.ConfigReloaded += _ => throw new InvalidOperationException("a broken subscriber");
        lifecycle.ConfigReloaded += c => Assert.Equal(2, c.WebRtcMaxClient);

        File.WriteAllText(_path, "[LOG]\nLOGLEVEL=4\n[WEBRTC]\nWEBRTCMAXCLIENT=2\nWEBRTCPORTSTART=10010\n");
        var result = lifecycle.Reload("test");
        Assert.True(result.Ok, result.Error);
        Assert.Equal(["[WEBRTC] WEBRTCMAXCLIENT"], result.Diff!.Live);
        Assert.Equal(["[WEBRTC] WEBRTCPORTSTART"], result.Diff.Restart);
        Assert.Equal(1, applied);
        Assert.Same(running, seen);
        Assert.Equal(2, running.WebRtcMaxClient);
        Assert.Equal(10000, running.WebRtcPort);
    }

    [Fact]
    public void ABadFileKeepsTheRunningConfigAndSaysWhy()
    {
        File.WriteAllText(_path, "[WEBRTC]\nWEBRTCMAXCLIENT=10\n");
        var running = EngineConfig.Parse(File.ReadAllText(_path));
        bool raised = false;
        var lifecycle = new ServerLifecycle(running, _path, _ => raised = true);
        lifecycle.ConfigReloaded += _ => raised = true;
        File.WriteAllText(_path, "[WEBRTC]\nWEBRTCMAXCLIENT=2\n[RTP]\nRTP_MIN_VIDEO_BPS=oops\n");
        var result = lifecycle.Reload("test");
        Assert.False(result.Ok);
        Assert.Contains("RTP_MIN_VIDEO_BPS", result.Error);
        Assert.Contains("kept", result.Error);
        Assert.Equal(10, running.WebRtcMaxClient);
        Assert.False(raised);

        File.Delete(_path);
        Assert.False(lifecycle.Reload("test").Ok);
        Assert.False(new ServerLifecycle(running, null, _ => { }).Reload("test").Ok);
    }
}
