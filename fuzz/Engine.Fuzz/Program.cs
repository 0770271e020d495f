using System.Diagnostics;
using System.Globalization;

namespace Engine.Fuzz;

/// <summary>
/// Commands (fuzz/run.sh wraps them):
///   list                                  targets, one per line
///   run TARGET SECONDS [options]          fuzz in a worker process; exit 0 = no crash, 1 = crash written
///   repro TARGET FILE...                  run saved inputs once; exit 1 if any crashes
///   outcomes TARGET [--mutations N]       run the seeds and N fixed mutations of each, print a digest
///                                         of the outcomes (compare an instrumented and a plain build)
///   seeds                                 (re)extract seed corpora from tests/fixtures
/// Options: --fuzz-dir DIR, --no-coverage, --no-auto-dict, --no-cmp-table, --seed N, --timeout-ms N
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
            return Usage();
        var opts = Options.Parse(args.Skip(1).ToArray());
        switch (args[0])
        {
            case "list":
                foreach (var t in TargetRegistry.All)
                    Console.WriteLine($"{t.Name,-16} {(t.IsSelfTest ? "[selftest] " : "")}{t.Description}");
                return 0;
            case "run":
                return Supervise(args, opts);
            case "worker":
                return Worker(opts);
            case "repro":
                return Repro(opts);
            case "outcomes":
                return Outcomes(opts);
            case "seeds":
                return SeedExtractor.Extract(opts.FuzzDir);
            default:
                return Usage();
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Engine.Fuzz list | run TARGET SECONDS [--no-coverage] [--no-auto-dict] [--no-cmp-table] [--seed N] [--timeout-ms N] [--fuzz-dir DIR] | repro TARGET FILE... | outcomes TARGET | seeds");
        return 2;
    }

    private static FuzzTarget TargetOrExit(string? name)
    {
        var t = name == null ? null : TargetRegistry.Find(name);
        if (t != null)
            return t;
        Console.Error.WriteLine($"unknown target '{name}'; known: {string.Join(", ", TargetRegistry.All.Select(x => x.Name))}");
        Environment.Exit(2);
        return null!;
    }

    /// <summary>
    /// The parent process: runs the fuzzer in a child so a crash the runtime cannot survive
    /// (stack overflow, a read into the guard page) still ends as a written finding.
    /// </summary>
    private static int Supervise(string[] args, Options o)
    {
        var target = TargetOrExit(o.Positional.ElementAtOrDefault(0));
        double seconds = double.Parse(o.Positional.ElementAtOrDefault(1) ?? "60", CultureInfo.InvariantCulture);
        string current = Path.Combine(o.FuzzDir, "work", "run", target.Name + ".cur");
        if (File.Exists(current))
            File.Delete(current);

        var psi = new ProcessStartInfo { UseShellExecute = false };
        string self = Environment.ProcessPath!;
        psi.FileName = self;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        psi.ArgumentList.Add("worker");
        foreach (string a in args.Skip(1))
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        psi.Environment["DOTNET_gcServer"] = "0";
        using var child = Process.Start(psi)!;
        // Bounded: the run time, plus start-up, seeds and crash minimisation.
        int limitMs = (int)Math.Min(int.MaxValue, (seconds + 180) * 1000);
        if (!child.WaitForExit(limitMs))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            Console.Error.WriteLine($"worker did not finish within {limitMs / 1000} s; killed");
            return 1;
        }
        int code = child.ExitCode;
        switch (code)
        {
            case 0:
                return 0;
            case Fuzzer.CrashExitCode:
            case Executor.HangExitCode:
                return 1;
            default:
                // The worker died under the runtime (exit 134 = SIGABRT from a fatal error, 139 = SIGSEGV).
                byte[]? input = Executor.ReadCurrentFile(current);
                string findings = Path.Combine(o.FuzzDir, "findings", target.Name);
                Directory.CreateDirectory(findings);
                if (input == null)
                {
                    Console.Error.WriteLine($"worker died with exit code {code} and left no input");
                    return 1;
                }
                string path = Path.Combine(findings, "crash-" + Fuzzer.Sha1(input));
                File.WriteAllBytes(path, input);
                File.WriteAllText(path + ".txt",
                    $"target: {target.Name}\nkind: fatal: the worker process died with exit code {code} (stack overflow, read past the input into the guard page, or another fatal runtime error; the run log has the runtime's message)\ninput: {input.Length} bytes: {Fuzzer.Preview(input)}\n");
                Console.WriteLine($"CRASH target={target.Name} file={path} (fatal, worker exit code {code})");
                return 1;
        }
    }

    private static int Worker(Options o)
    {
        var target = TargetOrExit(o.Positional.ElementAtOrDefault(0));
        double seconds = double.Parse(o.Positional.ElementAtOrDefault(1) ?? "60", CultureInfo.InvariantCulture);
        var options = new FuzzOptions
        {
            Target = target,
            Seconds = seconds,
            SeedDirs = [Path.Combine(o.FuzzDir, "corpus", target.Name)],
            WorkCorpusDir = target.IsSelfTest ? null : Path.Combine(o.FuzzDir, "work", "corpus", target.Name),
            FindingsDir = Path.Combine(o.FuzzDir, "findings", target.Name),
            UseCoverage = !o.NoCoverage,
            UseAutoDictionary = !o.NoAutoDict,
            UseCompareTable = !o.NoCmpTable,
            RandomSeed = o.Seed,
            TimeoutMs = o.TimeoutMs,
            CurrentInputPath = Path.Combine(o.FuzzDir, "work", "run", target.Name + ".cur"),
        };
        return OnBigStack(() => new Fuzzer(options).Run());
    }

    private static int Repro(Options o)
    {
        var target = TargetOrExit(o.Positional.ElementAtOrDefault(0));
        return OnBigStack(() =>
        {
            target.Setup();
            using var exec = new Executor(target, Math.Max(target.MaxLength, 1 << 20), null, Math.Max(o.TimeoutMs, 5000));
            exec.OnHang(_ => Console.WriteLine("HANG"));
            int crashes = 0;
            foreach (string file in o.Positional.Skip(1))
            {
                byte[] input = File.ReadAllBytes(file);
                var sw = Stopwatch.StartNew();
                var e = exec.Run(input, out bool accepted);
                Console.WriteLine($"{file}: {(e == null ? accepted ? "accepted" : "rejected" : "CRASH " + e)} ({sw.Elapsed.TotalMilliseconds:F1} ms)");
                if (e != null || sw.ElapsedMilliseconds > o.TimeoutMs)
                    crashes++;
            }
            return crashes == 0 ? 0 : 1;
        });
    }

    /// <summary>Same seeds, same fixed mutations, in any build: the digest must not change when the engine is instrumented.</summary>
    private static int Outcomes(Options o)
    {
        var target = TargetOrExit(o.Positional.ElementAtOrDefault(0));
        return OnBigStack(() =>
        {
            target.Setup();
            string dir = Path.Combine(o.FuzzDir, "corpus", target.Name);
            var seeds = Directory.Exists(dir)
                ? Directory.GetFiles(dir).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList()
                : new List<byte[]>();
            if (seeds.Count == 0)
                seeds.Add([]);
            using var exec = new Executor(target, target.MaxLength, null, 10_000);
            var mutator = new Mutator(12345, [], useRecentCompares: false);
            var digest = new System.Text.StringBuilder();
            int accepted = 0, rejected = 0, crashed = 0;
            byte[] buf = new byte[target.MaxLength];
            foreach (byte[] seed in seeds)
            {
                for (int m = 0; m <= o.Mutations; m++)
                {
                    int len = Math.Min(seed.Length, buf.Length);
                    seed.AsSpan(0, len).CopyTo(buf);
                    if (m > 0)
                        len = mutator.Mutate(buf, len, seeds);
                    var e = exec.Run(buf.AsSpan(0, len), out bool ok);
                    if (e != null) { crashed++; digest.Append('x').Append(e.GetType().Name); }
                    else if (ok) { accepted++; digest.Append('a'); }
                    else { rejected++; digest.Append('r'); }
                    digest.Append(target.LastDetail).Append(';');
                }
            }
            string hash = Fuzzer.Sha1(System.Text.Encoding.UTF8.GetBytes(digest.ToString()))[..16];
            Console.WriteLine($"OUTCOMES target={target.Name} inputs={accepted + rejected + crashed} accepted={accepted} rejected={rejected} crashed={crashed} digest={hash}");
            return 0;
        });
    }

    private static int OnBigStack(Func<int> body)
    {
        int result = 1;
        // A parser's deep recursion should be a finding, not a stack overflow of a small default stack.
        var thread = new Thread(() => result = body(), 64 * 1024 * 1024) { Name = "fuzz-worker" };
        thread.Start();
        thread.Join();
        return result;
    }

    private sealed class Options
    {
        public List<string> Positional { get; } = new();
        public string FuzzDir { get; private set; } = FindFuzzDir();
        public bool NoCoverage { get; private set; }
        public bool NoAutoDict { get; private set; }
        public bool NoCmpTable { get; private set; }
        public ulong Seed { get; private set; }
        public int TimeoutMs { get; private set; } = 1000;
        public int Mutations { get; private set; } = 200;

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException(args[i] + " needs a value");
                switch (args[i])
                {
                    case "--fuzz-dir": o.FuzzDir = Path.GetFullPath(Value()); break;
                    case "--no-coverage": o.NoCoverage = true; break;
                    case "--no-auto-dict": o.NoAutoDict = true; break;
                    case "--no-cmp-table": o.NoCmpTable = true; break;
                    case "--seed": o.Seed = ulong.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--timeout-ms": o.TimeoutMs = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--mutations": o.Mutations = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    default: o.Positional.Add(args[i]); break;
                }
            }
            return o;
        }

        private static string FindFuzzDir()
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            {
                if (d.Name == "fuzz" && File.Exists(Path.Combine(d.FullName, "run.sh")))
                    return d.FullName;
            }
            return Path.GetFullPath("fuzz");
        }
    }
}
