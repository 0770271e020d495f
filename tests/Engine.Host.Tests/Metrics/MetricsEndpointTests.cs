using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Engine.Dtls;
using Engine.Host.Config;
using Engine.Host.Http;
using Engine.Host.Sessions;
using Engine.Host.Signaling;
using Engine.Host.Transport;
using Engine.Host.Tests.Http;
using Engine.Host.Turn;

namespace Engine.Host.Tests.Metrics;

/// <summary>GET /metrics on a running frontend: always served, accepted by promtool, and moving when media flows.</summary>
public sealed class MetricsEndpointTests : IDisposable
{
    private const string Promtool = "/usr/bin/promtool";
    private readonly MediaLoop _loop = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly EngineConfig _config;
    private readonly PublishService _service;

    public MetricsEndpointTests()
    {
        _config = EngineConfig.Parse("[WEBRTC]\nWEBRTCMAXCLIENT=10\n");
        _config.HttpPort = 0;
        _service = new PublishService(_config, _loop, _certificate);
        _loop.Start();
    }

    public void Dispose()
    {
        _loop.Dispose();
        _certificate.Dispose();
    }

    private async Task<(HttpFrontend Frontend, HttpClient Http)> StartAsync(IPublishService service, TurnHost? turn = null, Engine.Host.Hooks.HookService? hooks = null)
    {
        var frontend = await HttpFrontend.StartAsync(_config, service, new TurnCredentials(_config), TimeProvider.System, IPAddress.Loopback, turnServer: turn, hooks: hooks);
        return (frontend, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{frontend.Port}"), Timeout = TimeSpan.FromSeconds(10) });
    }

    private static async Task<string> ScrapeAsync(HttpClient http)
    {
        var r = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", r.Content.Headers.ContentType!.ToString());
        return await r.Content.ReadAsStringAsync();
    }

    /// <summary>The value of one series (its name and labels exactly as written); fails when it is missing.</summary>
    private static double Value(string text, string series)
    {
        var m = Regex.Match(text, "^" + Regex.Escape(series) + " (\\S+)$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no series {series} in:\n{text}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static (int Code, string Output) RunPromtool(string text)
    {
        // tests/run.sh installs it; a machine without it fails here rather than skipping the check.
        Assert.True(File.Exists(Promtool), "promtool is not installed (Debian package prometheus): apt-get install -y prometheus");
        var psi = new ProcessStartInfo(Promtool, "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(text);
        p.StandardInput.Close();
        if (!p.WaitForExit(30_000))
        {
            p.Kill();
            throw new TimeoutException("promtool did not finish in 30 s");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public async Task MetricsAreServedWithoutTurnAndWithoutTheRealService()
    {
        var (frontend, http) = await StartAsync(new FakePublishService());
        await using var _ = frontend;
        using var __ = http;
        string text = await ScrapeAsync(http);
        Assert.Contains("# TYPE process_cpu_seconds_total counter", text);
        Assert.True(Value(text, "process_resident_memory_bytes") > 1_000_000);
        Assert.True(Value(text, "process_threads") >= 2);
        Assert.True(Value(text, "engine_gc_allocated_bytes_total") > 0);
        double start = Value(text, "process_start_time_seconds");
        double now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        Assert.InRange(start, now - 24 * 3600, now + 1);
        Assert.DoesNotContain("engine_turn_", text);
        Assert.DoesNotContain("engine_publish_sessions", text); // the fake is no PublishService
    }

    [Fact]
    public async Task PromtoolAcceptsTheOutputOfARunningFrontendWithTurnAndHooks()
    {
        var turnConfig = new TurnConfig { ListeningPort = FreeUdpPort(), MinPort = 41000, MaxPort = 41099, Realm = "metrics.test", NoTls = true, NoTcp = true };
        turnConfig.ListeningIps.Add(IPAddress.Loopback);
        turnConfig.RelayIps.Add(IPAddress.Loopback);
        using var turn = new TurnHost(turnConfig);
        turn.Start();
        using var hooks = new Engine.Host.Hooks.HookService(_config);
        var (frontend, http) = await StartAsync(_service, turn, hooks);
        await using var _ = frontend;
        using var __ = http;
        using var publisher = LoopbackClient.Publisher();
        var outcome = _service.Publish(new PublishRequest { Stream = "cam", OfferSdp = publisher.Offer, Signaling = "whip", LocalAddress = IPAddress.Loopback });
        Assert.True(outcome.Succeeded, outcome.Reason);
        for (int i = 0; i < 200 && _loop.SessionCount == 0; i++)
            await Task.Delay(10);

        string text = await ScrapeAsync(http);
        Assert.Equal(1, Value(text, "engine_publish_sessions{state=\"ice\"}"));
        Assert.Contains("engine_turn_drops_total{reason=\"no_permission\"}", text);
        Assert.Equal(0, Value(text, "engine_hook_calls_total{kind=\"status\",result=\"ok\"}"));
        Assert.Equal(0, Value(text, "engine_hook_queue_depth"));
        Assert.Contains("# TYPE engine_rtt_seconds histogram", text);
        var (code, output) = RunPromtool(text);
        Assert.True(code == 0 && output.Trim().Length == 0, $"promtool check metrics exited {code}:\n{output}\n--- the output ---\n{text}");
    }

    [Fact]
    public async Task CountersAndHistogramsMoveWhenMediaFlowsAndNeverGoBackWhenTheSessionEnds()
    {
        var (frontend, http) = await StartAsync(_service);
        await using var _ = frontend;
        using var __ = http;
        string before = await ScrapeAsync(http);
        const string rtpIn = "engine_udp_datagrams_total{direction=\"in\",kind=\"rtp\"}";
        const string rtpInBytes = "engine_udp_bytes_total{direction=\"in\",kind=\"rtp\"}";
        const string stunIn = "engine_udp_datagrams_total{direction=\"in\",kind=\"stun\"}";
        const string dtlsOut = "engine_udp_datagrams_total{direction=\"out\",kind=\"dtls\"}";
        const string videoIn = "engine_media_packets_total{direction=\"in\",media=\"video\"}";
        const string audioIn = "engine_media_packets_total{direction=\"in\",media=\"audio\"}";
        const string videoBytesIn = "engine_media_bytes_total{direction=\"in\",media=\"video\"}";
        const string jitterCount = "engine_jitter_seconds_count{media=\"video\"}";
        const string lossCount = "engine_loss_ratio_count{media=\"audio\"}";
        Assert.Equal(0, Value(before, videoIn));
        Assert.Equal(0, Value(before, jitterCount));

        using var publisher = LoopbackClient.Publisher();
        using var player = LoopbackClient.Player();
        var outcome = _service.Publish(new PublishRequest { Stream = "cam", OfferSdp = publisher.Offer, Signaling = "whip", LocalAddress = IPAddress.Loopback });
        Assert.True(outcome.Succeeded, outcome.Reason);
        var played = _service.Play(new Engine.Host.Playback.PlayRequest { Stream = "cam", OfferSdp = player.Offer, Signaling = "whep", LocalAddress = IPAddress.Loopback });
        Assert.True(played.Succeeded, played.Reason);
        publisher.Answer(outcome.AnswerSdp!, _certificate, _loop.LocalEndPoint, MediaLoop.NowMicros());
        player.Answer(played.AnswerSdp!, _certificate, _loop.LocalEndPoint, MediaLoop.NowMicros());
        // 2.5 s of media once both are up: the sampler (once a second) sees the snapshots at least twice.
        await Task.Run(() => LoopbackClient.Run([publisher, player],
            now => publisher.Connected && player.Connected && now - Math.Max(publisher.ConnectedAt, player.ConnectedAt) > 2_500_000));
        Assert.True(publisher.VideoFrames > 50 && publisher.AudioPackets > 90, $"{publisher.VideoFrames} frames, {publisher.AudioPackets} audio packets sent");
        Assert.True(player.FramesReceived > 10, $"the player received {player.FramesReceived} frames");

        string during = await ScrapeAsync(http);
        const string playRttCount = "engine_rtt_seconds_count{role=\"play\"}";
        for (int i = 0; i < 50 && (Value(during, lossCount) < 1 || Value(during, playRttCount) < 1); i++)
        {
            await Task.Delay(100);
            during = await ScrapeAsync(http);
        }
        Assert.True(Value(during, rtpIn) > Value(before, rtpIn) + 100, $"{rtpIn}: {Value(during, rtpIn)}");
        Assert.True(Value(during, rtpInBytes) > Value(before, rtpInBytes) + 100_000);
        Assert.True(Value(during, stunIn) >= 1);
        Assert.True(Value(during, dtlsOut) >= 1);
        // Snapshots are at most 250 ms old: most of what was sent is in.
        Assert.True(Value(during, videoIn) > publisher.VideoFrames, $"{videoIn}: {Value(during, videoIn)} for {publisher.VideoFrames} frames of 3 FU-A packets");
        Assert.True(Value(during, audioIn) > publisher.AudioPackets / 2, $"{audioIn}: {Value(during, audioIn)} of {publisher.AudioPackets}");
        Assert.True(Value(during, videoBytesIn) > 50 * 3000);
        Assert.True(Value(during, jitterCount) >= 1, $"{jitterCount}: {Value(during, jitterCount)}");
        Assert.True(Value(during, lossCount) >= 1, $"{lossCount}: {Value(during, lossCount)}");
        Assert.True(Value(during, playRttCount) >= 1, "the player's RTT (from its receiver reports) was never sampled");
        Assert.Equal(Value(during, lossCount), Value(during, "engine_loss_ratio_bucket{media=\"audio\",le=\"+Inf\"}"));
        Assert.Equal(1, Value(during, "engine_publish_sessions{state=\"connected\"}") + Value(during, "engine_publish_sessions{state=\"media\"}"));
        Assert.True(Value(during, "engine_ice_checks_total") >= 1);
        const string videoOut = "engine_media_packets_total{direction=\"out\",media=\"video\"}";
        const string rtpOut = "engine_udp_datagrams_total{direction=\"out\",kind=\"rtp\"}";
        Assert.True(Value(during, videoOut) > 30, $"{videoOut}: {Value(during, videoOut)}");
        Assert.True(Value(during, "engine_media_bytes_total{direction=\"out\",media=\"video\"}") > 30 * 1000);
        Assert.True(Value(during, rtpOut) > Value(before, rtpOut) + 30);
        Assert.Equal(1, Value(during, "engine_players{source=\"webrtc\",state=\"media\"}") + Value(during, "engine_players{source=\"webrtc\",state=\"waiting-keyframe\"}"));

        // The session ends: its counters stay in the totals (a counter never goes down).
        Assert.True(_service.End(outcome.SessionId!, "test"));
        for (int i = 0; i < 200 && _service.SessionCount > 0; i++)
            await Task.Delay(10);
        string after = await ScrapeAsync(http);
        Assert.Equal(0, Value(after, "engine_publish_sessions{state=\"media\"}") + Value(after, "engine_publish_sessions{state=\"connected\"}"));
        for (int i = 0; i < 200 && _service.PlayerCount > 0; i++)
            await Task.Delay(10);
        after = await ScrapeAsync(http);
        Assert.Equal(0, Value(after, "engine_players{source=\"webrtc\",state=\"media\"}"));
        foreach (var series in new[] { videoIn, audioIn, videoBytesIn, videoOut, "engine_ice_checks_total", "engine_rtcp_packets_total{direction=\"in\",role=\"publish\"}" })
            Assert.True(Value(after, series) >= Value(during, series), $"{series} went from {Value(during, series)} to {Value(after, series)}");
        Assert.True(Value(after, jitterCount) >= Value(during, jitterCount));
        Console.WriteLine($"metrics after media: {videoIn} {Value(after, videoIn)}, {rtpIn} {Value(after, rtpIn)}, {jitterCount} {Value(after, jitterCount)}, " +
            $"{videoOut} {Value(after, videoOut)}, engine_rtt_seconds_count{{role=\"publish\"}} {Value(after, "engine_rtt_seconds_count{role=\"publish\"}")}, " +
            $"engine_rtt_seconds_count{{role=\"play\"}} {Value(after, "engine_rtt_seconds_count{role=\"play\"}")}");
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "engine-metrics-after-media.txt"), after); // a sample for people to read
        var (afterCode, afterOutput) = RunPromtool(after);
        Assert.True(afterCode == 0 && afterOutput.Trim().Length == 0, $"promtool check metrics exited {afterCode}:\n{afterOutput}");
    }

    private static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }
}
