using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Xml.Linq;

namespace Engine.Codec.Bench;

/// <summary>
/// compare [auto] [N ...] [--window s] [--warmup s] [--audio on|off|both] [--designs legacy,engine] [--child path]:
/// for each N, the legacy design (N ffmpeg processes reading plain RTP described by an SDP file,
/// -c:v copy -c:a aac) against the engine (N RtpReceiveStream -> FlvOutput pipelines in one child
/// process), both fed the same recorded Chromium stream at real time over loopback UDP by this
/// process and both pushing FLV to an nginx-rtmp started here. CPU (utime+stime) and memory
/// (VmRSS, and PSS) of the design's processes only are measured over a fixed window after a
/// warm-up; stream 0 of every run is recorded by nginx and checked with ffprobe/ffmpeg afterwards.
/// --child: the engine side from a NativeAOT build of this project (as the engine ships; see the
/// csproj), else this same JIT-compiled process image.
/// Every run is validated (<see cref="Validate"/>): a run whose feeder fell behind its schedule, or
/// whose outputs did not receive the window's media, did not keep up with real time, so its CPU per
/// stream is an undercount; it is reported INVALID and no ratio is printed from it. auto: N steps down
/// (50 40 30 20 10 5 2 1, or the Ns given) until every run at one N is valid, skipping the rest of an N
/// at its first invalid run. Exit code 0 when every ratio printed is valid (auto: a valid N was found), else 3.
/// </summary>
internal static partial class Compare
{
    private sealed record Measurement(int Streams, string Design, bool Audio)
    {
        public double CpuSeconds, SystemSeconds, RssMb, PssMb, WindowSeconds;
        public long Sent;
        /// <summary>The feeder's lateness in the window (the harness's UDP feeder, or the engine child's in-process one).</summary>
        public double LateMaxMs, LateP95Ms;
        /// <summary>Media each output's RTMP session advanced in the window (nginx's last timestamp, end minus start), seconds.</summary>
        public double MediaMinS = double.NaN, MediaMeanS = double.NaN, MediaWallS;
        public int MediaLow, NotPublishing;
        public bool MediaObserved;
        public long UdpDrops = -1, SentInWindow;
        /// <summary>null: valid; else why not.</summary>
        public string? Invalid;
        public string Check = "", Notes = "";
        public string Media => Audio ? "H.264 copy + Opus->AAC" : "video only";
    }

    /// <summary>
    /// A feeder more than this late at any point in the window did not get the CPU to keep to real time,
    /// and neither, on the same cores, did the design it fed: 500 ms is 2.5% of a 20 s window's media, half
    /// the media tolerance below, and 5-10x what a feeder on an idle machine shows (it wakes every 5 ms).
    /// </summary>
    private const double LateBoundMs = 500;
    /// <summary>Each output must receive at least this share of the window's media (RTMP batching and the pipelines' latency vary by ~0.2-0.5 s).</summary>
    private const double MediaFraction = 0.95;
    /// <summary>
    /// Packets the kernel dropped on full UDP receive buffers, as a share of those sent in the window: the
    /// receiver did not keep up, and did that much less work (1% is well under the runs' ±10% noise).
    /// </summary>
    private const double DropFraction = 0.01;

    private static readonly int[] AutoCounts = [50, 40, 30, 20, 10, 5, 2, 1];

    /// <summary>
    /// inproc (default): the engine child plays the recording into its pipelines itself, as the engine
    /// hands frames from its media loop to the muxer in memory; udp: over loopback like the legacy design.
    /// </summary>
    private static string EngineFeed = "inproc";

    public static int Run(string[] args)
    {
        var counts = new List<int>();
        double window = 20, warmup = 8;
        string audioMode = "both";
        string? child = null;
        string[] designs = ["legacy", "engine"];
        bool auto = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "auto" or "--auto": auto = true; break;
                case "--window": window = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--audio": audioMode = args[++i]; break;
                case "--child": child = Path.GetFullPath(args[++i]); break;
                case "--designs": designs = args[++i].Split(','); break;
                case "--engine-feed": EngineFeed = args[++i]; break;
                default: counts.Add(int.Parse(args[i], CultureInfo.InvariantCulture)); break;
            }
        }
        if (auto)
            counts = (counts.Count == 0 ? AutoCounts : counts.ToArray()).Distinct().OrderDescending().ToList();
        else if (counts.Count == 0)
            counts = [1, 10, 50];
        bool[] audios = audioMode switch { "on" => [true], "off" => [false], _ => [true, false] };

        var rec = Recording.Load();
        Console.WriteLine($"recording: {rec.Packets.Length} packets, loop {rec.PeriodMicros / 1e6:F2} s, " +
            $"video {rec.Packets.Where(p => p.Track == rec.VideoTrack).Sum(p => (long)p.Data.Length) * 8 / (rec.PeriodMicros / 1e6) / 1e6:F2} Mbit/s (RTP incl. headers)");
        string dir = Directory.CreateTempSubdirectory("codec-compare-").FullName;
        using var nginx = Nginx.Start(dir);
        var runs = new List<Measurement>();
        int? found = null;
        try
        {
            foreach (int n in counts)
            {
                Measurement? failed = null;
                foreach (bool audio in audios)
                {
                    foreach (string design in designs)
                    {
                        var run = new Measurement(n, design, audio);
                        try
                        {
                            Measure(rec, run, nginx, dir, window, warmup, child);
                            Validate(run, design != "engine" || EngineFeed != "inproc");
                        }
                        catch (InvalidOperationException e)
                        {
                            // On a saturated machine a design may not even start (an ffmpeg gives up before the others bind).
                            run.Invalid = "it did not start: " + e.Message.Split('\n')[0].Trim();
                        }
                        runs.Add(run);
                        Console.WriteLine($"  {Row(run)}");
                        if (run.Invalid != null)
                        {
                            Console.WriteLine($"  INVALID: N={n} {design}, {run.Media}: {run.Invalid}");
                            failed = run;
                            if (auto)
                                break;
                        }
                    }
                    if (auto && failed != null)
                        break;
                }
                if (auto)
                {
                    if (failed == null)
                    {
                        found = n;
                        break;
                    }
                    Console.WriteLine($"  auto: N={n} is not carried by this machine now; the rest of N={n} is skipped");
                }
            }
        }
        finally
        {
            nginx.Dispose();
            if (Environment.GetEnvironmentVariable("COMPARE_KEEP") == null)
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
        Console.WriteLine();
        Console.WriteLine(Report(runs, window));
        string summary = Summary(runs, auto, found, counts);
        Console.WriteLine(summary);
        return summary.StartsWith("VALID", StringComparison.Ordinal) ? 0 : 3;
    }

    /// <summary>Sets <see cref="Measurement.Invalid"/>: the run did not keep up with real time, so its CPU is an undercount.</summary>
    private static void Validate(Measurement r, bool receivesUdp)
    {
        var inv = CultureInfo.InvariantCulture;
        var reasons = new List<string>();
        if (r.LateMaxMs > LateBoundMs)
            reasons.Add(string.Create(inv, $"its feeder sent up to {r.LateMaxMs:F0} ms late (p95 {r.LateP95Ms:F0} ms; bound {LateBoundMs:F0} ms)"));
        if (!r.MediaObserved)
            reasons.Add("the outputs' media was not observed (nginx's stat page did not answer)");
        else
        {
            if (r.NotPublishing > 0)
                reasons.Add($"{r.NotPublishing} of {r.Streams} outputs were not publishing through the window");
            if (r.MediaLow > 0)
                reasons.Add(string.Create(inv, $"its outputs received as little as {r.MediaMinS:F1} s of media in the {r.MediaWallS:F1} s window (mean {r.MediaMeanS:F1} s; {r.MediaLow} of {r.Streams} under {MediaFraction * 100:F0}%)"));
        }
        if (receivesUdp && r.UdpDrops > DropFraction * Math.Max(1, r.SentInWindow))
            reasons.Add(string.Create(inv, $"the kernel dropped {r.UdpDrops} packets on full UDP receive buffers ({r.UdpDrops / (double)Math.Max(1, r.SentInWindow):P2} of {r.SentInWindow} sent)"));
        r.Invalid = reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    /// <summary>Which runs are invalid and why, and which N this machine carries; starts with VALID or INVALID.</summary>
    private static string Summary(List<Measurement> runs, bool auto, int? found, List<int> counts)
    {
        var sb = new StringBuilder();
        var invalid = runs.Where(r => r.Invalid != null).ToList();
        var validNs = runs.Select(r => r.Streams).Distinct().Where(n => runs.Where(r => r.Streams == n).All(r => r.Invalid == null)).ToList();
        if (invalid.Count == 0)
        {
            double late = runs.Count == 0 ? 0 : runs.Max(r => r.LateMaxMs);
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"VALID: all {runs.Count} runs kept up with real time (feeders at most {late:F0} ms late, bound {LateBoundMs:F0} ms; every output received at least {MediaFraction * 100:F0}% of each window's media)."));
            if (auto && found is { } n)
                sb.Append($" compare auto: this machine carries N={n}.");
            return sb.ToString();
        }
        if (auto && found is { } carried)
        {
            sb.AppendLine($"VALID at N={carried}: compare auto found the largest N this machine carries now: N={carried} " +
                $"(tried {string.Join(", ", counts.TakeWhile(c => c != carried).Select(c => "N=" + c))}: INVALID, see below; no ratio printed for them).");
        }
        else
        {
            var ns = invalid.Select(r => r.Streams).Distinct().Order();
            sb.AppendLine($"INVALID: {invalid.Count} of {runs.Count} runs did not keep up with real time (at {string.Join(", ", ns.Select(n => "N=" + n))}); no ratio is printed from them (their CPU per stream is an undercount).");
        }
        foreach (var r in invalid)
            sb.AppendLine($"- INVALID N={r.Streams} {r.Design}, {r.Media}: {r.Invalid}.");
        if (!auto)
        {
            if (validNs.Count > 0)
                sb.Append($"This machine carries at most N={validNs.Max()} (the largest N whose runs were all valid here); `compare auto` steps N down to find the largest.");
            else
                sb.Append($"No N measured here was valid: run `compare auto` (steps N down {string.Join(" ", AutoCounts)} until both sides are valid).");
        }
        else if (found == null)
            sb.Append($"compare auto: no N tried ({string.Join(" ", counts)}) was valid; the machine is too loaded or too slow for this comparison now.");
        return sb.ToString().TrimEnd();
    }

    private static string Row(Measurement r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Streams} | {r.Design} | {r.Media} | {r.CpuSeconds / r.Streams:F3} | {r.SystemSeconds / r.Streams:F3} | {r.RssMb / r.Streams:F1} | {r.PssMb / r.Streams:F1} | {r.RssMb:F0} | {r.Check} | {r.Notes} | ") +
        string.Create(CultureInfo.InvariantCulture, $"{r.LateMaxMs:F0} / {r.LateP95Ms:F0} | ") +
        (r.MediaObserved ? string.Create(CultureInfo.InvariantCulture, $"{r.MediaMinS:F1} / {r.MediaMeanS:F1} of {r.MediaWallS:F1} | ") : "not observed | ") +
        (r.Invalid == null ? "valid |" : "**INVALID** |");

    private static string Report(List<Measurement> runs, double window)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Per stream, over {window:F0} s:"));
        sb.AppendLine();
        sb.AppendLine("| N | design | media | CPU-s / stream | of which kernel | RSS MB / stream | PSS MB / stream | RSS MB total | stream 0 output | notes | feeder late max / p95 ms | media per output in window, s: min / mean of wall | run |");
        sb.AppendLine("|--:|---|---|--:|--:|--:|--:|--:|---|---|--:|--:|---|");
        foreach (var r in runs)
            sb.AppendLine(Row(r));
        sb.AppendLine();
        sb.AppendLine("| N | CPU-s/stream legacy | CPU-s/stream engine | CPU ratio | without AAC: legacy | without AAC: engine | ratio | audio share legacy | audio share engine | RSS MB/stream legacy | engine | RSS ratio | PSS ratio |");
        sb.AppendLine("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (int n in runs.Select(r => r.Streams).Distinct())
        {
            Measurement? Find(string d, bool a) => runs.FirstOrDefault(r => r.Streams == n && r.Design == d && r.Audio == a);
            var (lf, ef, ln, en) = (Find("legacy", true), Find("engine", true), Find("legacy", false), Find("engine", false));
            static string F(double? v, string f = "F3") => v is { } x && !double.IsNaN(x) ? x.ToString(f, CultureInfo.InvariantCulture) : "–";
            // An invalid run's figures stay visible, marked; no ratio or difference is computed from them.
            static bool Bad(params Measurement?[] rs) => rs.Any(r => r?.Invalid != null);
            static string V(Measurement? r, double? v, string f = "F3") => Bad(r) ? F(v, f) + " (invalid)" : F(v, f);
            static string X(double? v, params Measurement?[] rs) => Bad(rs) ? "**INVALID**" : F(v, "F1") + "x";
            static string D(double? v, params Measurement?[] rs) => Bad(rs) ? "**INVALID**" : F(v);
            double? Per(Measurement? r) => r == null ? null : r.CpuSeconds / r.Streams;
            double? Div(double? a, double? b) => a is { } x && b is { } y && y > 0 ? x / y : null;
            double? Sub(double? a, double? b) => a is { } x && b is { } y ? x - y : null;
            double? rssL = lf == null ? null : lf.RssMb / n, rssE = ef == null ? null : ef.RssMb / n;
            double? pssL = lf == null ? null : lf.PssMb / n, pssE = ef == null ? null : ef.PssMb / n;
            sb.AppendLine($"| {n} | {V(lf, Per(lf))} | {V(ef, Per(ef))} | {X(Div(Per(lf), Per(ef)), lf, ef)} | {V(ln, Per(ln))} | {V(en, Per(en))} | {X(Div(Per(ln), Per(en)), ln, en)} | " +
                $"{D(Sub(Per(lf), Per(ln)), lf, ln)} | {D(Sub(Per(ef), Per(en)), ef, en)} | {V(lf, rssL, "F1")} | {V(ef, rssE, "F1")} | {X(Div(rssL, rssE), lf, ef)} | {X(Div(pssL, pssE), lf, ef)} |");
        }
        // What one more stream costs, without the fixed cost of a process: from valid runs only.
        var valid = runs.Where(r => r.Invalid == null).ToList();
        var first = true;
        foreach (var (design, audio) in valid.Select(r => (r.Design, r.Audio)).Distinct())
        {
            var own = valid.Where(r => r.Design == design && r.Audio == audio).OrderBy(r => r.Streams).ToList();
            if (own.Count < 2)
                continue;
            if (first)
                sb.AppendLine();
            first = false;
            var (lo, hi) = (own[0], own[^1]);
            int dn = hi.Streams - lo.Streams;
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"- {design}, {(audio ? "audio+video" : "video only")}: each stream from N={lo.Streams} to N={hi.Streams} added {(hi.CpuSeconds - lo.CpuSeconds) / dn:F3} CPU-s, {(hi.RssMb - lo.RssMb) / dn:F1} MB RSS, {(hi.PssMb - lo.PssMb) / dn:F1} MB PSS"));
        }
        return sb.ToString();
    }

    private static void Measure(Recording rec, Measurement run, Nginx nginx, string dir, double window, double warmup, string? child)
    {
        string tag = $"{run.Design}-{(run.Audio ? "av" : "v")}-{run.Streams}";
        string Url(int i) => i == 0 ? $"rtmp://127.0.0.1:{nginx.Port}/rec/{tag}" : $"rtmp://127.0.0.1:{nginx.Port}/live/{tag}-{i}";
        Console.WriteLine($"{tag}: starting");
        var design = run.Design == "legacy" ? (IDesign)new Legacy(rec, run.Streams, run.Audio, Url, dir, tag) : new EngineProcess(child, Path.ChangeExtension(Recording.DefaultPath, ".sdp"), run.Streams, run.Audio, Url);
        using (design)
        {
            using var feeder = design.FedInternally ? null : new Feeder(rec, run.Streams, design.Targets);
            Thread.Sleep(TimeSpan.FromSeconds(warmup));
            string[] names = Enumerable.Range(0, run.Streams).Select(i => i == 0 ? tag : $"{tag}-{i}").ToArray();
            var media0 = nginx.PublishedTimestamps();
            var mediaClock = Stopwatch.StartNew();
            long drops0 = Udp.ReceiveBufferErrors(), sent0 = feeder?.SentSoFar ?? 0;
            feeder?.Lateness.RequestReset();
            design.Mark();
            long cpu0 = design.Pids.Sum(Proc.CpuTicks), sys0 = design.Pids.Sum(Proc.SystemTicks);
            var sw = Stopwatch.StartNew();
            double rss = 0, pss = 0;
            int samples = 0;
            // Memory: the average of one sample every 4 s across the window.
            while (sw.Elapsed.TotalSeconds < window)
            {
                Thread.Sleep(TimeSpan.FromSeconds(Math.Min(4, Math.Max(0.05, window - sw.Elapsed.TotalSeconds))));
                if (sw.Elapsed.TotalSeconds < window - 0.1 || samples == 0)
                {
                    rss += design.Pids.Sum(Proc.RssKb) / 1024.0;
                    pss += design.Pids.Sum(Proc.PssKb) / 1024.0;
                    samples++;
                }
            }
            long cpu1 = design.Pids.Sum(Proc.CpuTicks), sys1 = design.Pids.Sum(Proc.SystemTicks);
            run.WindowSeconds = sw.Elapsed.TotalSeconds;
            run.CpuSeconds = (cpu1 - cpu0) / (double)Proc.TicksPerSecond * window / run.WindowSeconds;
            run.SystemSeconds = (sys1 - sys0) / (double)Proc.TicksPerSecond * window / run.WindowSeconds;
            run.RssMb = rss / samples;
            run.PssMb = pss / samples;
            var media1 = nginx.PublishedTimestamps();
            run.MediaWallS = mediaClock.Elapsed.TotalSeconds;
            long drops1 = Udp.ReceiveBufferErrors();
            run.UdpDrops = drops0 < 0 || drops1 < 0 ? -1 : drops1 - drops0;
            run.SentInWindow = (feeder?.SentSoFar ?? 0) - sent0;
            ObserveMedia(run, names, media0, media1);
            feeder?.Stop();
            run.Sent = feeder?.Sent ?? 0;
            run.Notes = design.Stop();
            (run.LateMaxMs, run.LateP95Ms) = feeder != null
                ? (feeder.Lateness.MaxMicros / 1000.0, feeder.Lateness.PercentileMs(0.95))
                : design.Lateness;
            if (!design.FedInternally)
                run.Notes += string.Create(CultureInfo.InvariantCulture, $" UDP receive drops {run.UdpDrops};");
        }
        Thread.Sleep(1000); // nginx closes the recording
        run.Check = Probe(Path.Combine(nginx.RecordDirectory, tag + ".flv"));
    }

    /// <summary>
    /// How far each output's RTMP session advanced between the window's two snapshots of nginx's stat page
    /// (the publisher's last message timestamp): what the server actually received, against the wall time between them.
    /// </summary>
    private static void ObserveMedia(Measurement run, string[] names, Dictionary<string, long>? before, Dictionary<string, long>? after)
    {
        run.MediaObserved = before != null && after != null;
        if (!run.MediaObserved)
            return;
        var advanced = new List<double>();
        foreach (string name in names)
        {
            if (!before!.TryGetValue(name, out long t0) || !after!.TryGetValue(name, out long t1) || t1 < t0)
            {
                run.NotPublishing++;
                continue;
            }
            advanced.Add((t1 - t0) / 1000.0);
        }
        run.MediaMinS = advanced.Count > 0 ? advanced.Min() : 0;
        run.MediaMeanS = advanced.Count > 0 ? advanced.Average() : 0;
        run.MediaLow = advanced.Count(a => a < MediaFraction * run.MediaWallS);
    }

    /// <summary>"h264 960x540 + aac 48000 Hz, 25.1 s, decode ok" or what is wrong.</summary>
    private static string Probe(string file)
    {
        if (!File.Exists(file))
            return "no recording";
        var (_, probe) = Tools.Run("ffprobe", $"-v error -show_entries stream=codec_name,width,height,sample_rate:format=duration -of csv=p=0 \"{file}\"");
        var parts = probe.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // passthrough + the demuxer's time base: a frame 24 ms after another must not collide in a 1/30 s encoder time base.
        var (code, errors) = Tools.Run("ffmpeg", $"-v error -nostdin -i \"{file}\" -fps_mode passthrough -enc_time_base -1 -f null -", stderr: true);
        int errorLines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        return string.Join(" + ", parts.Take(parts.Length - 1).Select(p => p.Replace(",,", " ").Replace(',', ' ').Trim()))
            + $", {parts.LastOrDefault()} s, " + (code == 0 && errorLines == 0 ? "decodes cleanly"
                : $"decode: exit {code}, {errorLines} error lines, first: {errors.Split('\n')[0].Trim()}");
    }

    private interface IDesign : IDisposable
    {
        int[] Pids { get; }
        /// <summary>[stream][recording track]</summary>
        SocketAddress[][] Targets { get; }
        /// <summary>The design reads the recording itself (the engine in-process: no UDP hop to pay).</summary>
        bool FedInternally => false;
        /// <summary>The measured window starts (the engine child resets its in-process feed's lateness).</summary>
        void Mark() { }
        /// <summary>After <see cref="Stop"/>: the in-process feed's lateness in the window (max, p95), ms.</summary>
        (double MaxMs, double P95Ms) Lateness => (0, 0);
        string Stop();
    }

    /// <summary>One ffmpeg per stream, as the legacy gateway's RTP2RTMPSHELL script ran it.</summary>
    private sealed class Legacy : IDesign
    {
        private readonly Process[] _processes;
        private readonly string[] _logs;

        public Legacy(Recording rec, int streams, bool audio, Func<int, string> url, string dir, string tag)
        {
            _processes = new Process[streams];
            _logs = new string[streams];
            Targets = new SocketAddress[streams][];
            var ports = new List<int>();
            for (int i = 0; i < streams; i++)
            {
                var own = rec.Tracks.Select(_ => Ports.FreeEvenUdpPair(ports)).ToArray();
                ports.AddRange(own);
                Targets[i] = own.Select(p => new IPEndPoint(IPAddress.Loopback, p).Serialize()).ToArray();
                string sdp = Path.Combine(dir, $"{tag}-{i}.sdp");
                File.WriteAllText(sdp, rec.Sdp(own));
                _logs[i] = Path.Combine(dir, $"{tag}-{i}.log");
                string codecs = audio ? "-c:v copy -c:a aac" : "-c:v copy -an";
                // exec: the pid measured is ffmpeg's own.
                var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = false };
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add($"exec ffmpeg -nostdin -nostats -loglevel warning -protocol_whitelist file,udp,rtp -i \"$1\" {codecs} -f flv \"$2\" 2>\"$3\" </dev/null");
                psi.ArgumentList.Add("legacy");
                psi.ArgumentList.Add(sdp);
                psi.ArgumentList.Add(url(i));
                psi.ArgumentList.Add(_logs[i]);
                _processes[i] = Process.Start(psi)!;
            }
            Pids = _processes.Select(p => p.Id).ToArray();
            // Every ffmpeg listens before the first packet (it would miss the keyframe).
            var deadline = Stopwatch.StartNew();
            while (!Ports.AllUdpBound(ports) && deadline.Elapsed < TimeSpan.FromSeconds(60))
                Thread.Sleep(100);
            if (!Ports.AllUdpBound(ports))
            {
                string log = File.ReadAllText(_logs[0]);
                Dispose(); // the caller gets no object to dispose
                throw new InvalidOperationException("ffmpeg did not bind its ports: " + log);
            }
        }

        public int[] Pids { get; }
        public SocketAddress[][] Targets { get; }

        public string Stop()
        {
            // SIGTERM: ffmpeg writes its trailer and closes the RTMP session cleanly.
            foreach (var p in _processes)
                Proc.Signal(p.Id, 15);
            var sw = Stopwatch.StartNew();
            foreach (var p in _processes)
                if (!p.WaitForExit(TimeSpan.FromSeconds(Math.Max(0.1, 15 - sw.Elapsed.TotalSeconds))))
                    p.Kill();
            int warnings = 0;
            var kinds = new SortedDictionary<string, int>();
            foreach (var log in _logs)
                foreach (var line in File.ReadAllLines(log))
                {
                    warnings++;
                    string key = line.Length > 60 ? line[..60] : line;
                    kinds[key] = kinds.GetValueOrDefault(key) + 1;
                }
            return $"ffmpeg log lines: {warnings}" + (kinds.Count > 0 ? " (" + string.Join("; ", kinds.OrderByDescending(k => k.Value).Take(2).Select(k => $"{k.Value}x {k.Key}")) + ")" : "") + ";";
        }

        public void Dispose()
        {
            foreach (var p in _processes)
            {
                try { if (!p.HasExited) p.Kill(); } catch (InvalidOperationException) { }
                p.Dispose();
            }
        }
    }

    /// <summary>The engine's pipelines in one child process (<see cref="EngineChild"/>).</summary>
    private sealed class EngineProcess : IDesign
    {
        private readonly Process _process;

        public EngineProcess(string? child, string sdp, int streams, bool audio, Func<int, string> url)
        {
            string self = child ?? Environment.ProcessPath!;
            var psi = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
                psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Engine.Codec.Bench.dll"));
            FedInternally = EngineFeed == "inproc";
            // Only the last "-1" is the stream number ("engine-av-10-1").
            string one = url(1), pattern = one[..one.LastIndexOf("-1", StringComparison.Ordinal)] + "-{i}";
            foreach (var a in new[] { "engine-child", streams.ToString(CultureInfo.InvariantCulture), audio ? "1" : "0", url(0), pattern, sdp, EngineFeed })
                psi.ArgumentList.Add(a);
            _process = Process.Start(psi)!;
            var ready = _process.StandardOutput.ReadLineAsync();
            if (!ready.Wait(TimeSpan.FromSeconds(30)) || ready.Result is not { } line || !line.StartsWith("READY ", StringComparison.Ordinal))
                throw new InvalidOperationException("engine child did not start");
            var target = new IPEndPoint(IPAddress.Loopback, int.Parse(line[6..], CultureInfo.InvariantCulture)).Serialize();
            Targets = Enumerable.Range(0, streams).Select(_ => new[] { target, target }).ToArray();
            Pids = [_process.Id];
        }

        public int[] Pids { get; }
        public SocketAddress[][] Targets { get; }
        public bool FedInternally { get; }
        public (double MaxMs, double P95Ms) Lateness { get; private set; }

        public void Mark()
        {
            _process.StandardInput.WriteLine("mark");
            _process.StandardInput.Flush();
        }

        public string Stop()
        {
            _process.StandardInput.WriteLine("stop");
            _process.StandardInput.Flush();
            var rest = _process.StandardOutput.ReadToEndAsync();
            if (!rest.Wait(TimeSpan.FromSeconds(30)))
            {
                // Unknown is not on time: the run is reported invalid.
                Lateness = (double.PositiveInfinity, double.PositiveInfinity);
                return "engine child did not stop;";
            }
            _process.WaitForExit(5000);
            string stats = rest.Result.Trim();
            Lateness = FedInternally ? (StatsValue(stats, "lateMaxMs"), StatsValue(stats, "lateP95Ms")) : (0, 0);
            return stats.Replace("STATS ", "", StringComparison.Ordinal) + ";";
        }

        /// <summary>key=value from the child's STATS line; +inf when missing (an old child: lateness unknown).</summary>
        private static double StatsValue(string stats, string key)
        {
            int at = stats.IndexOf(" " + key + "=", StringComparison.Ordinal);
            if (at < 0)
                return double.PositiveInfinity;
            at += key.Length + 2;
            int end = stats.IndexOf(' ', at);
            return double.TryParse(stats.AsSpan(at, (end < 0 ? stats.Length : end) - at), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.PositiveInfinity;
        }

        public void Dispose()
        {
            try { if (!_process.HasExited) _process.Kill(); } catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }

    /// <summary>
    /// Sends every stream's copy of the recording at its recorded pace on one thread. Stream i
    /// starts i/N of a second after stream 0 (so keyframes do not all land at once) and has SSRC
    /// SsrcBase + 2i + track; each loop continues sequence numbers and timestamps.
    /// </summary>
    private sealed class Feeder : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        public long Sent;
        /// <summary>Written by the feeder's thread; read it after <see cref="Stop"/>.</summary>
        public readonly FeedLateness Lateness = new();

        public long SentSoFar => Volatile.Read(ref Sent);

        public Feeder(Recording rec, int streams, SocketAddress[][] targets)
        {
            _thread = new Thread(() => Run(rec, streams, targets)) { Name = "feeder", IsBackground = true };
            _thread.Start();
        }

        private void Run(Recording rec, int streams, SocketAddress[][] targets)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { SendBufferSize = 4 << 20 };
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var buffer = new byte[2048];
            var next = new int[streams];
            var loop = new int[streams];
            var queue = new PriorityQueue<int, long>();
            long start = Now() + 100_000;
            long Due(int i) => start + i * 1_000_000L / streams + loop[i] * rec.PeriodMicros + rec.Packets[next[i]].OffsetMicros;
            for (int i = 0; i < streams; i++)
                queue.Enqueue(i, Due(i));
            while (!_stop)
            {
                queue.TryPeek(out int s, out long due);
                long now = Now();
                if (due > now + 500)
                {
                    Thread.Sleep((int)Math.Clamp((due - now) / 1000, 1, 20));
                    continue;
                }
                Lateness.Record(now - due);
                queue.Dequeue();
                var p = rec.Packets[next[s]];
                int n = rec.Write(p, loop[s], EngineChild.SsrcBase + (uint)(2 * s + p.Track), buffer);
                try
                {
                    socket.SendTo(buffer.AsSpan(0, n), SocketFlags.None, targets[s][p.Track]);
                }
                catch (SocketException)
                {
                    // ICMP port unreachable from an earlier send: the receiver is gone.
                }
                Volatile.Write(ref Sent, Sent + 1);
                if (++next[s] == rec.Packets.Length)
                {
                    next[s] = 0;
                    loop[s]++;
                }
                queue.Enqueue(s, Due(s));
            }
        }

        private static long Now() => Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);

        public void Stop()
        {
            _stop = true;
            _thread.Join(TimeSpan.FromSeconds(5));
        }

        public void Dispose() => Stop();
    }

    /// <summary>
    /// nginx with the RTMP module on a free loopback port; "rec" records each stream to a file; its stat
    /// page (rtmp_stat, HTTP on another loopback port) tells what each publisher has sent.
    /// </summary>
    private sealed class Nginx : IDisposable
    {
        private readonly Process _process;
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
        public int Port { get; }
        public int StatPort { get; }
        public string RecordDirectory { get; }

        private Nginx(Process process, int port, int statPort, string records)
        {
            _process = process;
            Port = port;
            StatPort = statPort;
            RecordDirectory = records;
        }

        /// <summary>Stream name -> the timestamp (ms) of the last message its publisher sent; null if the stat page did not answer.</summary>
        public Dictionary<string, long>? PublishedTimestamps()
        {
            try
            {
                var xml = XDocument.Parse(_http.GetStringAsync($"http://127.0.0.1:{StatPort}/stat").Result);
                var result = new Dictionary<string, long>();
                foreach (var stream in xml.Descendants("stream"))
                {
                    var publisher = stream.Elements("client").FirstOrDefault(c => c.Element("publishing") != null);
                    if (stream.Element("name")?.Value is { } name && publisher?.Element("timestamp")?.Value is { } ts
                        && long.TryParse(ts, NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms))
                        result[name] = ms;
                }
                return result;
            }
            catch (Exception e) when (e is AggregateException or HttpRequestException or TaskCanceledException or System.Xml.XmlException)
            {
                return null;
            }
        }

        public static Nginx Start(string dir)
        {
            int port = Ports.FreeTcp(), statPort = Ports.FreeTcp();
            string records = Path.Combine(dir, "records");
            Directory.CreateDirectory(records);
            string conf = Path.Combine(dir, "nginx.conf");
            File.WriteAllText(conf, $$"""
                load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
                daemon off;
                master_process off;
                worker_processes 1;
                pid {{dir}}/nginx.pid;
                error_log {{dir}}/nginx-error.log warn;
                events { worker_connections 1024; }
                rtmp {
                    server {
                        listen 127.0.0.1:{{port}};
                        application live { live on; }
                        application rec { live on; record all; record_path {{records}}; record_unique off; }
                    }
                }
                http {
                    access_log off;
                    client_body_temp_path {{dir}}/body;
                    proxy_temp_path {{dir}}/proxy;
                    fastcgi_temp_path {{dir}}/fastcgi;
                    uwsgi_temp_path {{dir}}/uwsgi;
                    scgi_temp_path {{dir}}/scgi;
                    server {
                        listen 127.0.0.1:{{statPort}};
                        location /stat { rtmp_stat all; }
                    }
                }
                """);
            var psi = new ProcessStartInfo("nginx") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-p", dir, "-e", Path.Combine(dir, "nginx-error.log"), "-c", conf })
                psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            for (int i = 0; i < 100; i++)
            {
                if (process.HasExited)
                    throw new InvalidOperationException("nginx exited: " + process.StandardError.ReadToEnd());
                try
                {
                    using var c = new TcpClient();
                    c.Connect(IPAddress.Loopback, port);
                    return new Nginx(process, port, statPort, records);
                }
                catch (SocketException)
                {
                    Thread.Sleep(100);
                }
            }
            process.Kill();
            throw new InvalidOperationException("nginx did not listen on " + port);
        }

        public void Dispose()
        {
            _http.Dispose();
            try
            {
                if (!_process.HasExited)
                {
                    Proc.Signal(_process.Id, 15);
                    if (!_process.WaitForExit(5000))
                        _process.Kill();
                }
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private static class Udp
    {
        /// <summary>
        /// The kernel's count of UDP datagrams dropped because a socket's receive buffer was full
        /// (RcvbufErrors in /proc/net/snmp: this network namespace, every socket); -1 if unreadable.
        /// </summary>
        public static long ReceiveBufferErrors()
        {
            try
            {
                var lines = File.ReadLines("/proc/net/snmp").Where(l => l.StartsWith("Udp:", StringComparison.Ordinal)).Take(2).ToArray();
                if (lines.Length < 2)
                    return -1;
                int column = Array.IndexOf(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries), "RcvbufErrors");
                var values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return column > 0 && column < values.Length ? long.Parse(values[column], CultureInfo.InvariantCulture) : -1;
            }
            catch (IOException)
            {
                return -1;
            }
        }
    }

    private static class Ports
    {
        public static int FreeTcp()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        /// <summary>An even port whose +1 (RTCP) is free too, not in <paramref name="taken"/>.</summary>
        public static int FreeEvenUdpPair(List<int> taken)
        {
            for (int attempt = 0; attempt < 1000; attempt++)
            {
                using var a = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                a.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                int rtp = ((IPEndPoint)a.LocalEndPoint!).Port & ~1;
                if (rtp == 0 || taken.Contains(rtp))
                    continue;
                try
                {
                    using var b = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    using var c = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    int own = ((IPEndPoint)a.LocalEndPoint!).Port;
                    if (own != rtp)
                        b.Bind(new IPEndPoint(IPAddress.Loopback, rtp));
                    if (own != rtp + 1)
                        c.Bind(new IPEndPoint(IPAddress.Loopback, rtp + 1));
                    return rtp;
                }
                catch (SocketException)
                {
                }
            }
            throw new InvalidOperationException("no free UDP port pair");
        }

        /// <summary>Whether something listens on each port (from /proc/net/udp).</summary>
        public static bool AllUdpBound(IEnumerable<int> ports)
        {
            var bound = new HashSet<int>();
            foreach (var line in File.ReadLines("/proc/net/udp").Skip(1))
            {
                var local = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
                bound.Add(int.Parse(local[(local.IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
            return ports.All(bound.Contains);
        }
    }

    internal static partial class Proc
    {
        public static readonly long TicksPerSecond = sysconf(2); // _SC_CLK_TCK

        /// <summary>utime + stime of the whole process (all threads), in clock ticks; 0 once gone.</summary>
        public static long CpuTicks(int pid) => Stat(pid, 11) + Stat(pid, 12);

        public static long SystemTicks(int pid) => Stat(pid, 12);

        // /proc/pid/stat after "(comm) ": field 0 is the state, 11 utime, 12 stime.
        private static long Stat(int pid, int field)
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[field], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                return 0;
            }
        }

        public static long RssKb(int pid) => Field($"/proc/{pid}/status", "VmRSS:");
        public static long PssKb(int pid) => Field($"/proc/{pid}/smaps_rollup", "Pss:");

        private static long Field(string path, string name)
        {
            try
            {
                foreach (var line in File.ReadLines(path))
                    if (line.StartsWith(name, StringComparison.Ordinal))
                        return long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
            }
            return 0;
        }

        public static void Signal(int pid, int signal) => kill(pid, signal);

        [LibraryImport("libc", EntryPoint = "sysconf")]
        private static partial long sysconf(int name);

        [LibraryImport("libc", EntryPoint = "kill")]
        private static partial int kill(int pid, int sig);
    }

    private static class Tools
    {
        /// <summary>Runs a tool to completion (bounded: 120 s), returning its exit code and stdout (or stderr).</summary>
        public static (int Code, string Output) Run(string file, string args, bool stderr = false)
        {
            var psi = new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEndAsync();
            var error = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(120_000))
            {
                p.Kill();
                return (-1, "timeout");
            }
            return (p.ExitCode, stderr ? error.Result : output.Result);
        }
    }
}
