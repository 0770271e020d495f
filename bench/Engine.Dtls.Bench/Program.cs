using BenchmarkDotNet.Running;
using Engine.Dtls.Bench;

// `--cpu`: process CPU time per handshake, which a machine shared with other jobs distorts less than wall time.
if (args.Length > 0 && args[0] == "--cpu")
{
    HandshakeCpuTime.Run();
    return;
}

// `--ours SECONDS`: only our handshake in a loop, for a profiler.
if (args.Length > 1 && args[0] == "--ours")
{
    var bench = new HandshakeBenchmarks();
    bench.Setup();
    var sw = System.Diagnostics.Stopwatch.StartNew();
    int n = 0;
    while (sw.Elapsed.TotalSeconds < double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)) { bench.Ours(); n++; }
    Console.WriteLine($"{n} handshakes");
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
