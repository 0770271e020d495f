using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Engine.Fuzz.Runtime;

namespace Engine.Fuzz;

public sealed record FuzzOptions
{
    public required FuzzTarget Target { get; init; }
    public double Seconds { get; init; } = 60;
    public List<string> SeedDirs { get; init; } = new();
    /// <summary>Where inputs with new coverage are saved (and reloaded by the next run); null: keep in memory only.</summary>
    public string? WorkCorpusDir { get; init; }
    public required string FindingsDir { get; init; }
    /// <summary>False: the same loop, but no input is ever kept for new coverage (the self-test's control run).</summary>
    public bool UseCoverage { get; init; } = true;
    public bool UseAutoDictionary { get; init; } = true;
    /// <summary>Offer constants from partly matched compares to the mutator (needs coverage feedback).</summary>
    public bool UseCompareTable { get; init; } = true;
    public ulong RandomSeed { get; init; }
    public int TimeoutMs { get; init; } = 1000;
    public string? CurrentInputPath { get; init; }
    public int StatusEverySeconds { get; init; } = 5;
}

/// <summary>
/// The in-process, persistent, coverage-guided loop (libFuzzer's design): pick a corpus entry,
/// mutate it, run it, keep it if it reached an edge (or an edge hit-count bucket) never seen.
/// Stops at the first crash: writes it, minimises it, and returns <see cref="CrashExitCode"/>.
/// </summary>
public sealed unsafe class Fuzzer
{
    public const int CrashExitCode = 10;

    // AFL's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+ each count as a different feature.
    private static readonly byte[] BucketOf = BuildBuckets();

    private readonly FuzzOptions _o;
    private readonly FuzzTarget _t;
    private readonly byte[] _virgin = new byte[Coverage.MapSize]; // per map cell: the buckets seen so far
    private readonly List<byte[]> _corpus = new();
    private readonly HashSet<string> _corpusHashes = new(StringComparer.Ordinal);
    private int _edges, _features;
    private long _corpusBytes;

    public Fuzzer(FuzzOptions options)
    {
        _o = options;
        _t = options.Target;
    }

    public int Run()
    {
        _t.Setup();
        var dictionary = LoadDictionary();
        var mutator = new Mutator(_o.RandomSeed != 0 ? _o.RandomSeed : (ulong)Environment.TickCount64 * 2654435761UL, dictionary, _o.UseCoverage && _o.UseCompareTable);
        using var exec = new Executor(_t, _t.MaxLength, _o.CurrentInputPath, _o.TimeoutMs);
        exec.OnHang(input => WriteFinding(input, null, $"hang: one run used over {_o.TimeoutMs} ms of CPU (or {_o.TimeoutMs / 100} s of wall time)", null));

        var clock = Stopwatch.StartNew();
        Log($"target {_t.Name}: {_t.Description}");
        Log($"coverage feedback {(_o.UseCoverage ? "on" : "OFF")}, dictionary {dictionary.Count} tokens, max_len {_t.MaxLength}, timeout {_o.TimeoutMs} ms");

        // Seeds first: every one runs; in coverage mode only those adding coverage stay in the corpus.
        var seeds = LoadSeeds();
        foreach (var seed in seeds)
        {
            var ex = exec.Run(seed, out _);
            bool fresh = MergeCoverage();
            if (ex != null)
                return Crash(exec, seed, ex, clock);
            if (fresh || !_o.UseCoverage)
                AddToCorpus(seed, save: false);
        }
        if (_corpus.Count == 0)
            AddToCorpus([], save: false);
        Log($"INITED corpus {_corpus.Count}/{seeds.Count} seeds, edges {_edges}, features {_features}");

        byte[] buf = new byte[_t.MaxLength];
        long deadline = (long)(_o.Seconds * Stopwatch.Frequency);
        long nextStatus = _o.StatusEverySeconds * Stopwatch.Frequency;
        var watch = Stopwatch.StartNew();
        long loopExecsStart = exec.Execs;
        while (true)
        {
            long now = watch.ElapsedTicks; // ~20 ns: negligible next to one run of any target
            if (now >= deadline)
                break;
            if (now >= nextStatus)
            {
                Status("pulse", exec.Execs - loopExecsStart, watch.Elapsed.TotalSeconds);
                nextStatus += _o.StatusEverySeconds * Stopwatch.Frequency;
            }
            // Newer entries (deeper in the format) are picked a little more often.
            int pick = PickParent(mutator);
            byte[] parent = _corpus[pick];
            int len = Math.Min(parent.Length, buf.Length);
            parent.AsSpan(0, len).CopyTo(buf);
            len = mutator.Mutate(buf, len, _corpus);
            var input = buf.AsSpan(0, len);
            var error = exec.Run(input, out _);
            bool fresh2 = MergeCoverage();
            if (error != null)
                return Crash(exec, input.ToArray(), error, clock);
            if (fresh2 && _o.UseCoverage)
            {
                AddToCorpus(input.ToArray(), save: true);
                Status("NEW", exec.Execs - loopExecsStart, watch.Elapsed.TotalSeconds, quietUnlessSlow: true);
            }
        }
        double secs = watch.Elapsed.TotalSeconds;
        long execs = exec.Execs - loopExecsStart;
        Status("DONE", execs, secs);
        Console.WriteLine($"RESULT target={_t.Name} seconds={secs:F0} execs={execs} exec_per_s={(long)(execs / Math.Max(secs, 1e-9))} edges={_edges} features={_features} corpus={_corpus.Count} crashes=0 total_seconds={clock.Elapsed.TotalSeconds:F0}");
        return 0;
    }

    private int PickParent(Mutator m)
    {
        int n = _corpus.Count;
        int i = m.Next(n);
        return m.Next(2) == 0 ? Math.Max(i, m.Next(n)) : i;
    }

    private int _lastNewLog;

    private void Status(string what, long execs, double secs, bool quietUnlessSlow = false)
    {
        if (quietUnlessSlow)
        {
            // NEW lines: all of them in the first 2 s, then at most one per second.
            int s = (int)secs;
            if (secs > 2 && s == _lastNewLog)
                return;
            _lastNewLog = s;
        }
        long rate = (long)(execs / Math.Max(secs, 1e-9));
        Log($"#{execs} {what} t={secs:F1}s exec/s: {rate} edges: {_edges} features: {_features} corpus: {_corpus.Count} ({_corpusBytes / 1024.0:F1} KB)");
    }

    private static void Log(string line) => Console.WriteLine(line);

    /// <summary>Folds the run's map into the seen-buckets table and clears it; true if anything was new.</summary>
    private bool MergeCoverage()
    {
        bool fresh = false;
        ulong* words = (ulong*)Coverage.Map;
        for (int w = 0; w < Coverage.MapSize / 8; w++)
        {
            ulong v = words[w];
            if (v == 0)
                continue;
            words[w] = 0;
            for (int j = 0; j < 8; j++, v >>= 8)
            {
                byte c = (byte)v;
                if (c == 0)
                    continue;
                int idx = w * 8 + j;
                byte bucket = BucketOf[c];
                byte seen = _virgin[idx];
                if ((seen & bucket) != 0)
                    continue;
                if (seen == 0)
                    _edges++;
                _features++;
                _virgin[idx] = (byte)(seen | bucket);
                fresh = true;
            }
        }
        return fresh;
    }

    private void AddToCorpus(byte[] input, bool save)
    {
        string hash = Sha1(input);
        if (!_corpusHashes.Add(hash))
            return;
        _corpus.Add(input);
        _corpusBytes += input.Length;
        if (save && _o.WorkCorpusDir != null)
        {
            Directory.CreateDirectory(_o.WorkCorpusDir);
            File.WriteAllBytes(Path.Combine(_o.WorkCorpusDir, hash), input);
        }
    }

    private List<byte[]> LoadSeeds()
    {
        var seeds = new List<byte[]>();
        var dirs = new List<string>(_o.SeedDirs);
        // A campaign's saved corpus feeds the next run; the control run (no coverage) starts from the seeds only.
        if (_o.WorkCorpusDir != null && _o.UseCoverage)
            dirs.Add(_o.WorkCorpusDir);
        foreach (string dir in dirs)
        {
            if (!Directory.Exists(dir))
                continue;
            foreach (string f in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
            {
                if (Path.GetFileName(f).StartsWith('.') || f.EndsWith(".md", StringComparison.Ordinal))
                    continue;
                byte[] bytes = File.ReadAllBytes(f);
                seeds.Add(bytes.Length > _t.MaxLength ? bytes[.._t.MaxLength] : bytes);
            }
        }
        // Smallest first: cheap seeds claim the shallow edges, so the corpus stays small.
        seeds.Sort((a, b) => a.Length.CompareTo(b.Length));
        return seeds;
    }

    private List<byte[]> LoadDictionary()
    {
        var lines = new List<string>();
        foreach (string token in _t.Tokens)
            lines.Add(token.StartsWith('"') ? token : "\"" + Escape(token) + "\"");
        if (_o.UseAutoDictionary)
        {
            foreach (string asm in _t.DictionaryAssemblies)
            {
                string path = Path.Combine(AppContext.BaseDirectory, asm + ".dict");
                if (File.Exists(path))
                    lines.AddRange(File.ReadAllLines(path));
            }
        }
        return Mutator.ParseDictionary(lines).DistinctBy(Convert.ToHexString).ToList();
    }

    private static string Escape(string raw)
    {
        var sb = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(raw))
            sb.Append(b is >= 0x20 and <= 0x7e && b != '"' && b != '\\' ? ((char)b).ToString() : $"\\x{b:x2}");
        return sb.ToString();
    }

    private int Crash(Executor exec, byte[] input, Exception error, Stopwatch sinceStart)
    {
        string signature = Signature(error);
        Log($"==CRASH== after {exec.Execs} runs, {sinceStart.Elapsed.TotalSeconds:F2} s: {signature}");
        Log(error.ToString());
        // Written before minimising: if a smaller input hangs or kills the process, the finding is already on disk.
        WriteFinding(input, null, "exception: " + signature, error.ToString(), announce: false);
        // Minimise: drop chunks (halving sizes) while the same exception at the same place remains.
        byte[] min = input;
        int budget = 4000;
        var clock = Stopwatch.StartNew();
        for (int chunk = Math.Max(1, min.Length / 2); chunk >= 1 && budget > 0; chunk /= 2)
        {
            for (int at = 0; at + chunk <= min.Length && budget > 0 && clock.Elapsed.TotalSeconds < 20;)
            {
                byte[] candidate = [.. min.AsSpan(0, at), .. min.AsSpan(at + chunk)];
                budget--;
                var e = exec.Run(candidate, out _);
                MergeCoverage();
                if (e != null && Signature(e) == signature)
                    min = candidate;
                else
                    at += chunk;
            }
            if (chunk == 1)
                break;
        }
        WriteFinding(input, min, "exception: " + signature, error.ToString());
        return CrashExitCode;
    }

    private static string Signature(Exception e)
    {
        // The first frame outside the harness (the target's own frames may be inlined away).
        var frames = (e.StackTrace ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Trim()).ToList();
        string frame = frames.FirstOrDefault(f => !f.StartsWith("at Engine.Fuzz.", StringComparison.Ordinal) || f.StartsWith("at Engine.Fuzz.Sample.", StringComparison.Ordinal)) ?? frames.FirstOrDefault() ?? "";
        int inAt = frame.IndexOf(" in ", StringComparison.Ordinal);
        return e.GetType().FullName + " " + (inAt > 0 ? frame[..inAt] : frame);
    }

    private void WriteFinding(byte[] input, byte[]? minimized, string kind, string? detail, bool announce = true)
    {
        Directory.CreateDirectory(_o.FindingsDir);
        string name = "crash-" + Sha1(input);
        string path = Path.Combine(_o.FindingsDir, name);
        File.WriteAllBytes(path, input);
        var report = new StringBuilder();
        report.AppendLine($"target: {_t.Name}");
        report.AppendLine($"kind: {kind}");
        report.AppendLine($"input: {name} ({input.Length} bytes): {Preview(input)}");
        if (minimized != null)
        {
            File.WriteAllBytes(path + ".min", minimized);
            report.AppendLine($"minimized: {name}.min ({minimized.Length} bytes): {Preview(minimized)}");
        }
        if (detail != null)
            report.AppendLine().AppendLine(detail);
        File.WriteAllText(path + ".txt", report.ToString());
        if (!announce)
            return;
        Console.WriteLine($"CRASH target={_t.Name} file={path} ({kind})");
        Console.Out.Flush();
    }

    public static string Preview(byte[] b) =>
        Convert.ToHexString(b.AsSpan(0, Math.Min(b.Length, 64))).ToLowerInvariant() + (b.Length > 64 ? "..." : "");

    public static string Sha1(ReadOnlySpan<byte> data) => Convert.ToHexString(SHA1.HashData(data)).ToLowerInvariant();

    private static byte[] BuildBuckets()
    {
        var t = new byte[256];
        for (int c = 1; c < 256; c++)
            t[c] = c switch { 1 => 1, 2 => 2, 3 => 4, <= 7 => 8, <= 15 => 16, <= 31 => 32, <= 127 => 64, _ => 128 };
        return t;
    }
}
