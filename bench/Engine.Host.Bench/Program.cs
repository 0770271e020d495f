using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "pull")
    return Engine.Host.Bench.PullBench.Run(args[1..]); // a measured harness: threads and sockets over seconds
if (args.Length > 0 && args[0] == "fanout-profile")
    return Engine.Host.Bench.FanoutProfile.Run(args[1..]); // perf stat/record attach to this
BenchmarkSwitcher.FromAssembly(typeof(Engine.Host.Bench.FanoutBenchmarks).Assembly).Run(args);
return 0;
