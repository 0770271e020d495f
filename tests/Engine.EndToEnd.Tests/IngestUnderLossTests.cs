using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 20's figures: headless Chromium publishes 1080p H.264 (a noisy testsrc2 clip through
/// --use-file-for-fake-video-capture) over WHIP to the engine, which runs in a network namespace of
/// the test's own and pushes FLV to nginx-rtmp on the host; the RTMP output pulled back is measured:
/// frame rate, longest freeze, bitrate, decode errors, plus the engine's counters and the
/// publisher's own encoder stats. The path: Chromium (host loopback) → <see cref="UdpDelayLine"/>
/// (100 ms each way, seeded random loss of SRTP/SRTCP towards the server; this kernel has no netem)
/// → the host veth end, shaped by tbf at 4 Mbit/s → the engine in the namespace, and back the same
/// way without loss or shaping. Chromium stays on the host: its DevTools port binds loopback only.
/// The issue's goals are asserted when the machine is not loaded by others (load average at most two
/// per core: a loaded machine starves Chromium's 1080p encoder, which no receiver can make up);
/// otherwise the engine must carry what was encoded. Figures are printed (and appended to $INGEST_LOSS_RESULTS when set).
/// </summary>
[Collection("chromium")]
public class IngestUnderLossTests(ITestOutputHelper log)
{
    private static readonly TimeSpan PullFor = TimeSpan.FromSeconds(25);
    private static readonly string Clip = Path.Combine(Path.GetTempPath(), "engine-e2e-1080p30-noise.mjpeg");

    private static void MakeClip()
    {
        if (File.Exists(Clip) && new FileInfo(Clip).Length > 1_000_000)
            return;
        // Temporal noise on testsrc2: the encoder needs its whole budget, as for a real camera.
        string tmp = Clip + ".tmp.mjpeg";
        var r = Tools.Run(Tools.Require("ffmpeg"), $"-v error -y -f lavfi -i \"testsrc2=s=1920x1080:r=30:d=15,noise=alls=12:allf=t+u\" -c:v mjpeg -q:v 6 -pix_fmt yuvj420p \"{tmp}\"", 120_000);
        Assert.True(r.Code == 0, r.Stderr);
        File.Move(tmp, Clip, overwrite: true);
    }

    // Publishes from the engine's own page (same origin for WHIP) with a script of ours: 1080p, H264
    // (+RTX) only, 2.5 Mbit/s, loopback candidates, and the answer's candidate moved to the delay line
    // on loopback (the engine's own, in the namespace, is never used directly).
    private static string PublishScript(string stream, int proxyPort) => $$"""
        (async () => { try {
          const media = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1920 }, height: { ideal: 1080 }, frameRate: { ideal: 30 } }, audio: true });
          const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
          window.lossPc = pc;
          for (const track of media.getTracks()) {
            const t = pc.addTransceiver(track, { direction: "sendonly", streams: [media] });
            if (track.kind !== "video") continue;
            const caps = RTCRtpSender.getCapabilities("video").codecs;
            t.setCodecPreferences(caps.filter(c => ["video/h264", "video/rtx"].includes(c.mimeType.toLowerCase())));
            const p = t.sender.getParameters();
            p.encodings[0].maxBitrate = 2500000;
            p.degradationPreference = "maintain-resolution";
            await t.sender.setParameters(p);
          }
          await pc.setLocalDescription(await pc.createOffer());
          await new Promise(resolve => {
            if (pc.iceGatheringState === "complete") return resolve();
            pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
            setTimeout(resolve, 3000);
          });
          const offer = pc.localDescription.sdp.split("\r\n").filter(l => !l.startsWith("a=candidate:") || / 127\.\d+\.\d+\.\d+ \d+ typ /.test(l)).join("\r\n");
          const r = await fetch("/whip/{{stream}}", { method: "POST", headers: { "Content-Type": "application/sdp" }, body: offer });
          if (r.status !== 201) return "failed: " + r.status + " " + await r.text();
          const answer = (await r.text()).replace(/(a=candidate:\S+ \d+ udp \d+ )\d+\.\d+\.\d+\.\d+ \d+/gi, (m, head) => head + "127.0.0.1 {{proxyPort}}");
          window.lossAnswer = answer;
          await pc.setRemoteDescription({ type: "answer", sdp: answer });
          return "ok";
        } catch (e) { return "threw: " + e; } })()
        """;

    private const string StatsScript = """
        (async () => {
          if (!window.lossPc) return "{}";
          const out = { state: window.lossPc.connectionState };
          (await window.lossPc.getStats()).forEach(r => {
            if (r.type === "outbound-rtp" && r.kind === "video") Object.assign(out, { framesEncoded: r.framesEncoded, framesSent: r.framesSent, fps: r.framesPerSecond,
              width: r.frameWidth, height: r.frameHeight, bytesSent: r.bytesSent, packetsSent: r.packetsSent, retransmitted: r.retransmittedPacketsSent,
              nackCount: r.nackCount, pliCount: r.pliCount, firCount: r.firCount, keyFramesEncoded: r.keyFramesEncoded, targetBitrate: r.targetBitrate,
              qualityLimitationReason: r.qualityLimitationReason, qualityLimitationDurations: r.qualityLimitationDurations,
              encoder: r.encoderImplementation, totalEncodeTime: r.totalEncodeTime, timestamp: r.timestamp });
            if (r.type === "candidate-pair" && r.nominated) out.rttMs = r.currentRoundTripTime * 1000;
          });
          return JSON.stringify(out);
        })()
        """;

    private static async Task<JsonElement> StatsAsync(ChromiumPage page) =>
        JsonDocument.Parse((await page.EvaluateAsync(StatsScript, awaitPromise: true)).GetString()!).RootElement.Clone();

    private static JsonElement Session(JsonElement streams) => streams.GetProperty("streams").EnumerateArray().Single();

    private static JsonElement Video(JsonElement streams) =>
        Session(streams).GetProperty("tracks").EnumerateArray().Single(t => t.GetProperty("kind").GetString() == "video");

    private static double D(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    // tbf's counters on the host veth end ("Sent N bytes M pkt (dropped D, overlimits O ...)").
    private static (long Sent, long Dropped) Tbf(NetNamespace ns)
    {
        var m = System.Text.RegularExpressions.Regex.Match(Tools.Run(Tools.Require("tc"), $"-s qdisc show dev {ns.HostInterface}", 10_000).Stdout,
            @"Sent \d+ bytes (\d+) pkt \(dropped (\d+)");
        return m.Success ? (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)) : (-1, -1);
    }

    // Issue 20's goals: (frame rate, longest freeze in seconds) per loss level.
    private static (double Fps, double FreezeSeconds)? Goal(int lossPercent) => lossPercent switch
    {
        1 => (25, 0.5),
        5 => (20, 1.0),
        _ => null,
    };

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task ChromiumPublishes1080pThrough200msRttAndLossIntoANamespace(int lossPercent)
    {
        MakeClip();
        using var ns = new NetNamespace("ingestns");
        // 4 Mbit/s towards the server, on the host veth end's egress (what the line sends into the
        // namespace): a 10 kB bucket (7 MTUs) and 250 ms of queue before tbf drops, as a router's tail drop.
        var tc = Tools.Run(Tools.Require("tc"), $"qdisc add dev {ns.HostInterface} root tbf rate 4mbit burst 10kb latency 250ms", 10_000);
        Assert.True(tc.Code == 0, "tc: " + tc.Stderr);
        using var nginx = new NginxRtmp(ns.HostAddress);
        // INGEST_LOSS_AUTO_BITRATE=0: no receive-side estimate (a comparison run; the default is the engine's).
        string auto = Environment.GetEnvironmentVariable("INGEST_LOSS_AUTO_BITRATE") == "0" ? "\nRTP_AUTO_BITRATE=0" : "";
        using var engine = new EngineProcess($"RTP2RTMPBASEURL={nginx.BaseUrl}\n[RTP]\nRTP_MAX_VIDEO_BPS=3000000{auto}", ns.InsideAddress, ns);
        // INGEST_LOSS_TRACE=DIR: the line's drops in DIR/line-<loss>.trace (run the engine with RTP_RECEIVE_TRACE=DIR for its side).
        string? trace = Environment.GetEnvironmentVariable("INGEST_LOSS_TRACE") is { Length: > 0 } traceDir ? Path.Combine(traceDir, $"line-{lossPercent}.trace") : null;
        // INGEST_LOSS_SEED=N: another loss pattern (the default draws the same one every run).
        int seed = (int.TryParse(Environment.GetEnvironmentVariable("INGEST_LOSS_SEED"), out int s0) ? s0 : 20) + lossPercent;
        using var line = new UdpDelayLine(new IPEndPoint(IPAddress.Parse(ns.InsideAddress), engine.MediaPort), lossPercent, seed, TimeSpan.FromMilliseconds(100),
            rateBitsPerSecond: 0, trace, upstreamLocal: IPAddress.Parse(ns.HostAddress));
        string stream = $"loss{lossPercent}";
        string origin = $"http://{ns.InsideAddress}:{engine.HttpPort}";
        // Not loopback, so not a secure context: getUserMedia needs the origin declared secure.
        await using var page = new ChromiumPage(origin + "/", $"--unsafely-treat-insecure-origin-as-secure={origin} --use-file-for-fake-video-capture=\"{Clip}\"");
        await Tools.PollAsync(async () => (await page.EvaluateAsync("location.protocol + ' ' + document.readyState + ' ' + !!navigator.mediaDevices")).GetString()!,
            s => s == "http: complete true", TimeSpan.FromSeconds(30), "the page to load");
        var published = await page.EvaluateAsync(PublishScript(stream, line.Port), awaitPromise: true);
        Assert.True(published.ValueKind == JsonValueKind.String && published.GetString() == "ok", published.ToString() + engine.Output);
        await Tools.PollAsync(async () => (await StatsAsync(page)).TryGetProperty("state", out var s) ? s.GetString()! : "",
            s => s is "connected" or "failed", TimeSpan.FromSeconds(40), "the browser to connect through the delay line");
        var output = await Tools.PollAsync(async () => Session(await engine.StreamsAsync()).GetProperty("outputs")[0],
            o => o.GetProperty("state").GetString() == "live" && o.GetProperty("videoFrames").GetInt64() > 0, TimeSpan.FromSeconds(30), "the RTMP output to be live");
        // Let the sender's bandwidth estimate ramp up before measuring.
        await Task.Delay(TimeSpan.FromSeconds(8));

        var browserBefore = await StatsAsync(page);
        var engineBefore = await engine.StreamsAsync();
        long lostBefore = line.Lost, seenBefore = line.MediaSeen;
        var tbfBefore = Tbf(ns);
        string pulled = Path.Combine(engine.Directory, stream + ".flv");
        var sw = Stopwatch.StartNew();
        line.Mark("window start");
        var pullTask = Task.Run(() => Tools.Run(Tools.Require("ffmpeg"), $"-v error -nostdin -rw_timeout 10000000 -analyzeduration 10000000 -i {nginx.Url(stream)} -t {PullFor.TotalSeconds} -c copy -f flv \"{pulled}\"", 90_000));
        // Once a second while the window runs: the REMB we send and Chromium's own target.
        var rembs = new List<double>();
        var targets = new List<double>();
        for (int i = 0; i < 120 && !pullTask.IsCompleted; i++)
        {
            await Task.WhenAny(pullTask, Task.Delay(1000));
            try
            {
                if (Session(await engine.StreamsAsync()).GetProperty("rembBps") is { ValueKind: JsonValueKind.Number } r)
                    rembs.Add(r.GetDouble());
                if (D(await StatsAsync(page), "targetBitrate") is var t && !double.IsNaN(t))
                    targets.Add(t);
            }
            catch (HttpRequestException)
            {
            }
        }
        var pull = await pullTask;
        double pulledSeconds = sw.Elapsed.TotalSeconds;
        line.Mark("window end");
        var browserAfter = await StatsAsync(page);
        var engineAfter = await engine.StreamsAsync();
        var tbfAfter = Tbf(ns);
        long lost = line.Lost - lostBefore, seen = line.MediaSeen - seenBefore;
        Assert.True(pull.Code == 0, pull.Stderr + engine.Output);

        // The RTMP output's video packets: pts and size.
        var packets = Tools.Run(Tools.Require("ffprobe"), $"-v error -select_streams v -show_entries packet=pts_time,size -of csv=p=0 \"{pulled}\"").Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Trim().TrimEnd(',').Split(','))
            .Where(f => f.Length >= 2 && f[0] != "N/A")
            .Select(f => (Pts: double.Parse(f[0], CultureInfo.InvariantCulture), Size: long.Parse(f[1], CultureInfo.InvariantCulture)))
            .OrderBy(p => p.Pts).ToList();
        var decode = Tools.Run(Tools.Require("ffmpeg"), $"-v error -i \"{pulled}\" -fps_mode passthrough -enc_time_base -1 -f null -", 120_000);
        string decodeErrors = decode.Stderr.Trim();
        int decodeErrorLines = decodeErrors.Length == 0 ? 0 : decodeErrors.Split('\n').Length;

        Assert.True(packets.Count > 10, $"only {packets.Count} video packets pulled; {engine.Output}");
        double span = packets[^1].Pts - packets[0].Pts;
        double fps = (packets.Count - 1) / span;
        var gaps = packets.Zip(packets.Skip(1), (a, b) => b.Pts - a.Pts).ToList();
        double freeze = gaps.Max();
        var windows = packets.GroupBy(p => (int)Math.Floor(p.Pts - packets[0].Pts)).Where(g => g.Key < (int)Math.Floor(span)).Select(g => g.Sum(p => p.Size) * 8 / 1e6).ToList();
        double avgMbps = packets.Sum(p => p.Size) * 8 / 1e6 / span;
        double peakMbps = windows.Count > 0 ? windows.Max() : double.NaN;

        var vb = Video(engineBefore);
        var va = Video(engineAfter);
        double Delta(string name) => D(va, name) - D(vb, name);
        double seconds = (D(browserAfter, "timestamp") - D(browserBefore, "timestamp")) / 1000;
        double encodedFps = (D(browserAfter, "framesEncoded") - D(browserBefore, "framesEncoded")) / seconds;
        double sentMbps = (D(browserAfter, "bytesSent") - D(browserBefore, "bytesSent")) * 8 / 1e6 / seconds;
        var ob = Session(engineBefore).GetProperty("outputs")[0];
        var oa = Session(engineAfter).GetProperty("outputs")[0];
        double OutDelta(string name) => D(oa, name) - D(ob, name);
        var limits = browserAfter.TryGetProperty("qualityLimitationDurations", out var ql) ? ql.GetRawText() : "?";
        double Counter(string name) => D(Session(engineAfter).GetProperty("counters"), name) - D(Session(engineBefore).GetProperty("counters"), name);
        string Range(List<double> v) => v.Count == 0 ? "none" : $"min {v.Min() / 1e6:F2} mean {v.Average() / 1e6:F2} max {v.Max() / 1e6:F2} Mbit/s";

        double load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        string figures = string.Join(" | ", [
            $"loss {lossPercent}% (namespace, seed {seed})", $"line {lost}/{seen} media lost ({(seen > 0 ? 100.0 * lost / seen : 0):F2}%)",
            $"RTMP {packets.Count} frames over {span:F1} s: {fps:F1} fps", $"longest freeze {freeze * 1000:F0} ms ({gaps.Count(g => g > 0.2)} gaps > 200 ms, {gaps.Count(g => g > 0.5)} > 500 ms)",
            $"bitrate avg {avgMbps:F2} Mbit/s, peak {peakMbps:F2} (1 s windows)",
            $"engine: frames dropped {Delta("framesDropped")}, NACKs sent {Delta("nacksSent")}, recovered {Delta("nackRecovered")}, PLIs sent {Delta("plisSent")}, keyframes {Delta("keyframes")}, packetsLost {D(vb, "packetsLost")} -> {D(va, "packetsLost")}, RTX packets {Counter("rtxPackets")} (padding {Counter("rtxPadding")})",
            $"engine output: video frames {OutDelta("videoFrames")} ({OutDelta("videoFrames") / seconds:F1}/s), frames dropped {OutDelta("framesDropped")}, GOPs dropped {OutDelta("gopsDropped")}; engine received frames {Delta("frames")}",
            $"REMB sent {Range(rembs)}{(auto.Length > 0 ? " (auto bitrate off)" : "")}; Chromium target {Range(targets)}",
            $"tbf 4 Mbit/s: {tbfAfter.Sent - tbfBefore.Sent} packets, {tbfAfter.Dropped - tbfBefore.Dropped} dropped",
            $"decoder error lines {decodeErrorLines}",
            $"publisher: encoded {encodedFps:F1} fps, sent {(D(browserAfter, "framesSent") - D(browserBefore, "framesSent")) / seconds:F1} fps, sent {sentMbps:F2} Mbit/s, {D(browserAfter, "width")}x{D(browserAfter, "height")}, target {D(browserAfter, "targetBitrate") / 1e6:F2} Mbit/s, limitation {browserAfter.GetProperty("qualityLimitationReason")} {limits}, encoder {browserAfter.GetProperty("encoder")}, NACKs {D(browserAfter, "nackCount") - D(browserBefore, "nackCount")}, PLIs {D(browserAfter, "pliCount") - D(browserBefore, "pliCount")}, FIRs {D(browserAfter, "firCount") - D(browserBefore, "firCount")}, retransmitted {D(browserAfter, "retransmitted") - D(browserBefore, "retransmitted")}, keyframes {D(browserAfter, "keyFramesEncoded") - D(browserBefore, "keyFramesEncoded")}, ICE RTT {D(browserAfter, "rttMs"):F0} ms",
            $"output mode {output.GetProperty("mode")}, pulled for {pulledSeconds:F1} s, load {load:F2}"]);
        log.WriteLine(figures);
        if (Environment.GetEnvironmentVariable("INGEST_LOSS_RESULTS") is { Length: > 0 } results)
            File.AppendAllText(results, figures + Environment.NewLine);

        string diagnostics = figures + "\n" + line + "\n" + Session(engineAfter).GetRawText() + "\n" + decodeErrors;
        Assert.True(decodeErrorLines == 0, "decoder errors: " + diagnostics);
        Assert.True(span >= PullFor.TotalSeconds * 0.5, $"video covers only {span:F1} s: " + diagnostics);
        Assert.True(fps >= 5, "video did not keep arriving: " + diagnostics);
        Assert.True(lost > 0 == lossPercent > 0, diagnostics);
        if (lossPercent > 0)
            Assert.True(Delta("nacksSent") > 0, "no NACK under loss: " + diagnostics);
        Assert.Equal("media", Session(engineAfter).GetProperty("state").GetString());
        if (Goal(lossPercent) is { } goal)
        {
            if (load <= 2 * Environment.ProcessorCount)
            {
                // This test's own Chromium, engine and ffmpeg load the machine to about 2.5: beyond that
                // other work starves the publisher's 1080p encoder, which no receiver can make up.
                Assert.True(fps >= goal.Fps, $"{lossPercent}% loss: {fps:F1} fps, the goal is {goal.Fps}: " + diagnostics);
                Assert.True(freeze <= goal.FreezeSeconds, $"{lossPercent}% loss: a freeze of {freeze * 1000:F0} ms, the goal is at most {goal.FreezeSeconds * 1000:F0}: " + diagnostics);
            }
            else
            {
                // A loaded machine: the goals are not judged, but the engine must carry what was encoded.
                log.WriteLine($"goals not judged: load average {load:F1} on {Environment.ProcessorCount} cores");
                Assert.True(fps >= 0.75 * encodedFps, $"{lossPercent}% loss: {fps:F1} fps out of {encodedFps:F1} encoded: " + diagnostics);
            }
        }
    }
}
