using System.Globalization;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 16's real-peer publish case: Chromium publishes over WHIP through a link shaped with tbf
/// at 600 kbit/s and the engine's REMB (RTP_AUTO_BITRATE=1, from the receive-side estimator) follows
/// the link; Chromium's outbound targetBitrate stays within the REMB we sent. A control run without
/// shaping keeps the REMB well above the link. The engine runs in the namespace and Chromium on the
/// host (its DevTools port binds loopback only), so the shaped queue is the host veth's egress:
/// Chromium's packets towards the engine, and nothing else of weight.
/// </summary>
[Collection("chromium")] // one browser at a time: the machine has two cores
public class RembFollowsLinkTests(ITestOutputHelper output)
{
    private const int LinkBps = 600_000;
    private const int MaxBps = 2_500_000, MinBps = 100_000;
    private const int Seconds = 30;
    private const int SettledFrom = 15; // seconds after media starts; the asserts below judge from here
    // The estimator grows to at most 1.5x the incoming rate + 10 kbit/s; tbf's bucket lets the
    // measured rate peek a little over the link, hence 1.6x rather than 1.5x.
    private const double RembCeilingBps = 1.6 * LinkBps;

    internal sealed record Sample(double T, long? RembBps, double TargetBps, double SentBps, string Limitation, long FramesSent, long EngineFrames, int Width);

    private async Task<List<Sample>> PublishAsync(bool shaped)
    {
        using var ns = new NetNamespace();
        if (shaped)
        {
            // 600 kbit/s, a 5000-byte bucket (3 MTUs) and 150 ms of queue before tbf drops.
            var tc = Tools.Run(Tools.Require("tc"), $"qdisc add dev {ns.HostInterface} root tbf rate {LinkBps / 1000}kbit burst 5000 latency 150ms", 10_000);
            Assert.True(tc.Code == 0, "tc: " + tc.Stderr);
        }
        using var engine = new EngineProcess($"[RTP]\nRTP_AUTO_BITRATE=1\nRTP_MIN_VIDEO_BPS={MinBps}\nRTP_MAX_VIDEO_BPS={MaxBps}", ns.InsideAddress, ns);
        string origin = $"http://{ns.InsideAddress}:{engine.HttpPort}";
        // Chromium's own fake camera compresses to ~0.5 Mbit/s even at 720p (under the link): a noisy
        // 640x480 clip, looped, makes the encoder want the 2.5 Mbit/s it is allowed.
        string clip = Path.Combine(engine.Directory, "noise.y4m");
        var ff = Tools.Run(Tools.Require("ffmpeg"), $"-v error -y -f lavfi -i testsrc2=s=640x480:r=15,noise=alls=30:allf=t+u -t 4 -pix_fmt yuv420p \"{clip}\"");
        Assert.True(ff.Code == 0, "ffmpeg: " + ff.Stderr);
        // Not loopback, so not a secure context: getUserMedia needs the origin declared secure.
        await using var page = new ChromiumPage(origin + "/?stream=remb&video=h264&autostart=1&via=whip",
            $"--unsafely-treat-insecure-origin-as-secure={origin} --use-file-for-fake-video-capture={clip}");
        var state = await Tools.PollAsync(page.StateAsync, s => s == "connected" || s.StartsWith("failed"), TimeSpan.FromSeconds(40), "the browser to connect");
        Assert.False(state.StartsWith("failed"), state + "\n" + engine.Output);
        await page.EvaluateAsync("""
            (async () => { const s = pc.getSenders().find(x => x.track && x.track.kind === "video");
              const p = s.getParameters(); p.encodings[0].maxBitrate = 2500000; await s.setParameters(p); return true; })()
            """, awaitPromise: true);
        Assert.Contains("abs-send-time", (await page.EvaluateAsync("window.answerSdp")).GetString());

        var samples = new List<Sample>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double lastBytes = -1, lastAt = 0;
        for (int i = 0; i <= Seconds; i++)
        {
            var wait = TimeSpan.FromSeconds(i) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait);
            var b = JsonDocument.Parse((await page.EvaluateAsync("""
                pc.getStats().then(r => { let o = {}; r.forEach(x => { if (x.type === "outbound-rtp" && x.kind === "video")
                  o = { target: x.targetBitrate || 0, bytes: x.bytesSent + x.headerBytesSent, qlr: x.qualityLimitationReason, frames: x.framesSent, width: x.frameWidth || 0 }; });
                  return JSON.stringify(o); })
                """, awaitPromise: true)).GetString()!).RootElement;
            double at = clock.Elapsed.TotalSeconds;
            var session = (await engine.StreamsAsync()).GetProperty("streams").EnumerateArray().Single();
            long? remb = session.GetProperty("rembBps").ValueKind == JsonValueKind.Number ? session.GetProperty("rembBps").GetInt64() : null;
            long engineFrames = session.GetProperty("tracks").EnumerateArray().Single(t => t.GetProperty("kind").GetString() == "video").GetProperty("frames").GetInt64();
            double bytes = b.GetProperty("bytes").GetDouble();
            double sent = lastBytes < 0 ? 0 : (bytes - lastBytes) * 8 / (at - lastAt);
            lastBytes = bytes;
            lastAt = at;
            samples.Add(new Sample(i, remb, b.GetProperty("target").GetDouble(), sent, b.GetProperty("qlr").GetString() ?? "", b.GetProperty("frames").GetInt64(), engineFrames, b.GetProperty("width").GetInt32()));
        }
        await page.EvaluateAsync("stop().then(() => true)", awaitPromise: true);
        Print(shaped ? $"tbf {LinkBps / 1000} kbit/s" : "no shaping", samples);
        return samples;
    }

    private void Print(string title, List<Sample> s)
    {
        var sb = new StringBuilder($"{title}\n   t  remb_kbps  target_kbps  sent_kbps  limitation  width  framesSent  engineFrames\n");
        foreach (var x in s)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{x.T,4:0} {x.RembBps / 1000.0,10:0} {x.TargetBps / 1000,12:0} {x.SentBps / 1000,10:0}  {x.Limitation,-10} {x.Width,6} {x.FramesSent,11} {x.EngineFrames,13}"));
        var settled = s.Where(x => x.T >= SettledFrom).ToList();
        var settle = SettleTime(s);
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"REMB settle (first second from which every REMB <= {1.5 * LinkBps / 1000:0} kbit/s): {(settle is { } t ? t + " s" : "never")}; from {SettledFrom} s: mean REMB {settled.Average(x => x.RembBps ?? 0) / 1000:0} kbit/s, mean target {settled.Average(x => x.TargetBps) / 1000:0} kbit/s, mean sent {settled.Average(x => x.SentBps) / 1000:0} kbit/s (link {LinkBps / 1000} kbit/s)"));
        output.WriteLine(sb.ToString());
    }

    private static double? SettleTime(List<Sample> s)
    {
        for (int i = 0; i < s.Count; i++)
            if (s.Skip(i).All(x => x.RembBps is { } r && r <= 1.5 * LinkBps))
                return s[i].T;
        return null;
    }

    private static void AssertTargetWithinRemb(List<Sample> s, string table)
    {
        // One sampling period of lag: the target may still answer the REMB of the second before.
        for (int i = 1; i < s.Count; i++)
        {
            if (s[i].RembBps is not { } now || s[i - 1].RembBps is not { } before)
                continue;
            Assert.True(s[i].TargetBps <= 1.1 * Math.Max(now, before), $"at {s[i].T} s Chromium's target {s[i].TargetBps:0} exceeds the REMB we sent ({before}, then {now})\n{table}");
        }
    }

    private static void AssertFramesKeepFlowing(List<Sample> s, string table)
    {
        var settled = s.Where(x => x.T >= SettledFrom).ToList();
        double seconds = settled[^1].T - settled[0].T;
        Assert.True(settled[^1].EngineFrames - settled[0].EngineFrames >= 5 * seconds, $"the engine received too few frames after settling\n{table}");
    }

    private static string Table(List<Sample> s) => string.Join("\n", s);

    [Fact]
    public async Task RembFallsToTheShapedLinkAndChromiumFollowsIt()
    {
        var s = await PublishAsync(shaped: true);
        string table = Table(s);
        var settled = s.Where(x => x.T >= SettledFrom).ToList();
        Assert.All(settled, x => Assert.True(x.RembBps is { } r && r <= RembCeilingBps, $"REMB above 1.6x the link at {x.T} s\n{table}"));
        // Above the floor, and not collapsed: on average at least half the link.
        Assert.True(settled.Average(x => x.RembBps!.Value) >= 0.5 * LinkBps, $"REMB collapsed under the link\n{table}");
        Assert.All(settled, x => Assert.True(x.RembBps > MinBps, $"REMB at the floor at {x.T} s\n{table}"));
        AssertTargetWithinRemb(s, table);
        AssertFramesKeepFlowing(s, table);
    }

    [Fact]
    public async Task WithoutShapingTheRembStaysFarAboveThatLink()
    {
        var s = await PublishAsync(shaped: false);
        string table = Table(s);
        var settled = s.Where(x => x.T >= SettledFrom).ToList();
        Assert.True(settled.Average(x => x.RembBps ?? 0) >= 3 * LinkBps, $"unshaped, the REMB fell\n{table}");
        AssertTargetWithinRemb(s, table);
        AssertFramesKeepFlowing(s, table);
    }
}
