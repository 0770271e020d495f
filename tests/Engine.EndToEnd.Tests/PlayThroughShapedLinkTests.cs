using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 16's playback case: ffmpeg pushes 640x480 H.264 with B-frames to nginx-rtmp, the engine
/// pulls and transcodes it (1.5 Mbit/s configured) and Chromium plays it over WHEP through a link
/// shaped with tbf at 1 Mbit/s (the namespace veth's egress: the engine runs inside) plus 50 ms each
/// way in <see cref="UdpDelayLine"/> (this kernel has no netem). The player's send-side estimate
/// lowers the transcoder's bitrate, so what Chromium receives fits the link and it keeps decoding;
/// a control run without tbf plays at the configured rate. Chromium runs on the host (its DevTools
/// port binds loopback) and reaches the engine only through the delay line: the answer's candidate
/// is moved there. Figures go to the test output (bench/results/gcc-e2e.md collects them).
/// </summary>
[Collection("chromium")] // one browser at a time: the machine has two cores
public class PlayThroughShapedLinkTests(ITestOutputHelper output)
{
    private const int LinkBps = 1_000_000, ConfiguredBps = 1_500_000, OneWayMs = 50;
    private const int Seconds = 25;
    private const double SettleWithinSeconds = 10, CeilingBps = 1.1 * LinkBps;
    private const string Stream = "shaped";

    internal sealed record Sample(double T, double VideoBps, double Fps, long FramesDecoded, long EncoderTargetBps, long PlayerTargetBps, long Lost, long Nacks, long Plis, long Freezes, int Width);

    private static Process Push(NginxRtmp nginx) => Tools.StartDrained(Tools.Require("ffmpeg"),
        "-v error -nostdin -re -f lavfi -i testsrc2=size=640x480:rate=30,noise=alls=10:allf=t -f lavfi -i sine=frequency=440:sample_rate=48000 " +
        "-c:v libx264 -profile:v high -preset veryfast -bf 2 -g 30 -pix_fmt yuv420p -b:v 3M -c:a aac -b:a 64k -ac 2 " +
        $"-f flv {nginx.Url(Stream)}");

    // A recvonly WHEP player of our own (the page's origin for fetch), its answer's candidate moved to the delay line.
    private static string PlayScript(string inside, int mediaPort, int linePort) => $$"""
        (async () => { try {
          const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
          pc.addTransceiver("video", { direction: "recvonly" });
          pc.addTransceiver("audio", { direction: "recvonly" });
          const v = document.createElement("video"); v.muted = true; v.autoplay = true; document.body.appendChild(v);
          pc.ontrack = e => { if (e.track.kind === "video") { v.srcObject = new MediaStream([e.track]); v.play().catch(() => {}); } };
          await pc.setLocalDescription(await pc.createOffer());
          await new Promise(resolve => {
            if (pc.iceGatheringState === "complete") return resolve();
            pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
            setTimeout(resolve, 3000);
          });
          const offer = pc.localDescription.sdp.split("\r\n").filter(l => !l.startsWith("a=candidate:") || / 127\.\d+\.\d+\.\d+ \d+ typ /.test(l)).join("\r\n");
          const r = await fetch("/whep/{{Stream}}", { method: "POST", headers: { "Content-Type": "application/sdp" }, body: offer });
          const body = await r.text();
          if (r.status !== 201) { pc.close(); return "failed: " + r.status + " " + body.trim(); }
          const candidate = " {{inside}} {{mediaPort}} typ ";
          if (!body.includes(candidate)) { pc.close(); return "no candidate" + candidate + "in the answer: " + body; }
          await pc.setRemoteDescription({ type: "answer", sdp: body.split(candidate).join(" 127.0.0.1 {{linePort}} typ ") });
          window.shapedPc = pc;
          return "ok";
        } catch (e) { return "threw: " + e; } })()
        """;

    private const string StatsScript = """
        (async () => {
          const pc = window.shapedPc, o = { state: pc ? pc.connectionState : "none" };
          if (pc) (await pc.getStats()).forEach(r => {
            if (r.type === "inbound-rtp" && r.kind === "video") Object.assign(o, { bytes: r.bytesReceived || 0, frames: r.framesDecoded || 0, lost: r.packetsLost || 0,
              nacks: r.nackCount || 0, plis: r.pliCount || 0, freezes: r.freezeCount || 0, width: r.frameWidth || 0, ts: r.timestamp });
          });
          return JSON.stringify(o);
        })()
        """;

    private static async Task<string> LoadedAsync(ChromiumPage page)
    {
        try
        {
            return (await page.EvaluateAsync("location.href + ' ' + document.readyState")).GetString() ?? "";
        }
        catch (InvalidOperationException e) when (e.Message.Contains("context", StringComparison.OrdinalIgnoreCase))
        {
            return e.Message;
        }
    }

    private static async Task<JsonElement> StatsAsync(ChromiumPage page) =>
        JsonDocument.Parse((await page.EvaluateAsync(StatsScript, awaitPromise: true)).GetString()!).RootElement.Clone();

    private static double D(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;

    private static long OrMinus1(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : -1;

    private static JsonElement? Pull(JsonElement streams) =>
        streams.GetProperty("pulls").EnumerateArray().Where(p => p.GetProperty("stream").GetString() == Stream).Select(p => (JsonElement?)p).FirstOrDefault();

    private static JsonElement? Player(JsonElement streams) =>
        streams.GetProperty("playback").EnumerateArray().Where(p => p.GetProperty("stream").GetString() == Stream && p.GetProperty("state").GetString() == "media")
            .Select(p => (JsonElement?)p).FirstOrDefault();

    private async Task<(List<Sample> Samples, string Diagnostics)> PlayAsync(bool shaped)
    {
        using var ns = new NetNamespace("gcctrans");
        if (shaped)
        {
            // 1 Mbit/s out of the namespace (the engine's media towards Chromium), a 5000-byte bucket, 150 ms of queue before tbf drops.
            var (tc, args) = ns.Exec(Tools.Require("tc"), $"qdisc add dev {ns.InsideInterface} root tbf rate {LinkBps / 1000}kbit burst 5000 latency 150ms");
            var r = Tools.Run(tc, args, 10_000);
            Assert.True(r.Code == 0, "tc: " + r.Stderr);
        }
        using var nginx = new NginxRtmp(ns.HostAddress);
        using var engine = new EngineProcess($"RTMP2RTPBASEURL={nginx.BaseUrl}", ns.InsideAddress, ns);
        using var push = Push(nginx);
        using var line = new UdpDelayLine(new IPEndPoint(IPAddress.Parse(ns.InsideAddress), engine.MediaPort), 0, 16, TimeSpan.FromMilliseconds(OneWayMs), 0,
            upstreamLocal: IPAddress.Parse(ns.HostAddress));
        try
        {
            string origin = $"http://{ns.InsideAddress}:{engine.HttpPort}";
            await using var page = new ChromiumPage(origin + "/", "--autoplay-policy=no-user-gesture-required");
            // While Chromium still navigates from about:blank an evaluation can meet a destroyed context: asked again.
            await Tools.PollAsync(() => LoadedAsync(page), s => s == origin + "/ complete", TimeSpan.FromSeconds(30), "the page to load");
            // nginx-rtmp has the stream once ffmpeg's first GOP is in: until then the pull finds nothing (404), so the play is retried.
            string played = await Tools.PollAsync(async () => (await page.EvaluateAsync(PlayScript(ns.InsideAddress, engine.MediaPort, line.Port), awaitPromise: true)).ToString(),
                s => s == "ok" || !s.StartsWith("failed: 404"), TimeSpan.FromSeconds(40), "the WHEP play of the pulled stream");
            Assert.True(played == "ok", played + "\n" + engine.Output);
            var first = await Tools.PollAsync(() => StatsAsync(page), s => D(s, "frames") > 0 || s.GetProperty("state").GetString() is "failed" or "closed",
                TimeSpan.FromSeconds(40), "Chromium's first decoded frame through the delay line");
            Assert.True(D(first, "frames") > 0, $"no frame decoded: {first}\n{line}\n{engine.Output}");

            var samples = new List<Sample>();
            var clock = Stopwatch.StartNew();
            double lastBytes = D(first, "bytes"), lastTs = D(first, "ts"), lastFrames = D(first, "frames");
            for (int i = 1; i <= Seconds; i++)
            {
                var wait = TimeSpan.FromSeconds(i) - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait);
                var s = await StatsAsync(page);
                var streams = await engine.StreamsAsync();
                double dt = (D(s, "ts") - lastTs) / 1000;
                if (dt <= 0.2)
                    continue; // the stats did not move (a stalled page): the next sample spans both
                samples.Add(new Sample(clock.Elapsed.TotalSeconds, (D(s, "bytes") - lastBytes) * 8 / dt, (D(s, "frames") - lastFrames) / dt, (long)D(s, "frames"),
                    Pull(streams) is { } p ? OrMinus1(p, "encoderTargetBps") : -1, Player(streams) is { } pl ? OrMinus1(pl, "targetBps") : -1,
                    (long)D(s, "lost"), (long)D(s, "nacks"), (long)D(s, "plis"), (long)D(s, "freezes"), (int)D(s, "width")));
                (lastBytes, lastTs, lastFrames) = (D(s, "bytes"), D(s, "ts"), D(s, "frames"));
            }
            var end = await engine.StreamsAsync();
            string diagnostics = $"{line}\npull: {Pull(end)}\nplayer: {Player(end)}";
            output.WriteLine(Table(shaped ? $"tbf {LinkBps / 1000} kbit/s + {OneWayMs} ms each way" : $"no tbf, {OneWayMs} ms each way", samples));
            output.WriteLine(diagnostics);
            return (samples, diagnostics);
        }
        finally
        {
            if (!push.HasExited)
                push.Kill(true);
        }
    }

    private static string Table(string title, List<Sample> s)
    {
        var sb = new StringBuilder($"{title}\n     t  video_kbps   fps  decoded  encoder_kbps  player_target_kbps  lost  nacks  plis  freezes  width\n");
        foreach (var x in s)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{x.T,6:0.0} {x.VideoBps / 1000,11:0} {x.Fps,5:0.0} {x.FramesDecoded,8} {x.EncoderTargetBps / 1000.0,13:0} {x.PlayerTargetBps / 1000.0,19:0} {x.Lost,5} {x.Nacks,6} {x.Plis,5} {x.Freezes,8} {x.Width,6}"));
        return sb.ToString();
    }

    /// <summary>The first sample time from which every later 1 s window is at most <paramref name="ceiling"/>; null when none.</summary>
    private static double? SettledFrom(List<Sample> s, double ceiling)
    {
        for (int i = 0; i < s.Count; i++)
            if (s.Skip(i).All(x => x.VideoBps <= ceiling))
                return i == 0 ? 0 : s[i - 1].T;
        return null;
    }

    private static void AssertKeepsDecoding(List<Sample> s, double fromSeconds, string table)
    {
        var after = s.Where(x => x.T >= fromSeconds).ToList();
        Assert.True(after.Count >= 5, $"only {after.Count} samples after {fromSeconds:0} s\n{table}");
        double seconds = after[^1].T - after[0].T;
        double fps = (after[^1].FramesDecoded - after[0].FramesDecoded) / seconds;
        Assert.True(fps >= 15, $"Chromium decoded {fps:F1} frames/s after {fromSeconds:0} s (at least 15 expected)\n{table}");
        // No stall: every two seconds some frames decode.
        for (int i = 2; i < after.Count; i++)
            Assert.True(after[i].FramesDecoded > after[i - 2].FramesDecoded, $"no frame decoded between {after[i - 2].T:0.0} s and {after[i].T:0.0} s\n{table}");
    }

    [Fact]
    public async Task TranscodedPullFitsA1MbitLinkAndKeepsDecoding()
    {
        var (s, diagnostics) = await PlayAsync(shaped: true);
        string table = Table("tbf", s) + diagnostics;
        Assert.True(s.Count >= Seconds - 3, $"only {s.Count} samples\n{table}");
        var settled = SettledFrom(s, CeilingBps);
        Assert.True(settled is { } t && t <= SettleWithinSeconds,
            $"Chromium's received video did not stay at or under {CeilingBps / 1e6:F1} Mbit/s from {SettleWithinSeconds:0} s on (settled from: {(settled is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "never")})\n{table}");
        AssertKeepsDecoding(s, SettleWithinSeconds, table);
        // The transcoder followed the player: its target under the link once settled.
        var late = s.Where(x => x.T >= SettleWithinSeconds && x.EncoderTargetBps > 0).ToList();
        Assert.True(late.Count > 0 && late.Average(x => x.EncoderTargetBps) < LinkBps, $"the encoder's target did not come under the link\n{table}");
    }

    [Fact]
    public async Task WithoutShapingTheTranscodedPullPlaysAtTheConfiguredRate()
    {
        var (s, diagnostics) = await PlayAsync(shaped: false);
        string table = Table("no tbf", s) + diagnostics;
        Assert.True(s.Count >= Seconds - 3, $"only {s.Count} samples\n{table}");
        AssertKeepsDecoding(s, SettleWithinSeconds, table);
        // The encoder climbs back to its configured rate and Chromium receives about that.
        var top = s.Where(x => x.EncoderTargetBps == ConfiguredBps).ToList();
        Assert.True(top.Count > 0, $"the encoder never got back to {ConfiguredBps / 1e6:F1} Mbit/s\n{table}");
        var tail = s.Where(x => x.T >= top[0].T + 3).ToList();
        Assert.True(tail.Count >= 3, $"too few samples after the encoder reached its rate at {top[0].T:0.0} s\n{table}");
        double mean = tail.Average(x => x.VideoBps);
        Assert.True(mean >= 0.75 * ConfiguredBps, $"Chromium received {mean / 1e6:F2} Mbit/s at the configured {ConfiguredBps / 1e6:F1}\n{table}");
    }
}
