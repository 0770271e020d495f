using Engine.Codec.Bench;

// compare N...: legacy ffmpeg-per-stream against the engine's pipelines (see Compare.cs).
// engine-child: the engine side of compare, run by it as a separate process.
// Anything else: BenchmarkDotNet.
return args.FirstOrDefault() switch
{
    "compare" => Compare.Run(args[1..]),
    "engine-child" => EngineChild.Run(args[1..]),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
#if ENGINE_CHILD
    Console.Error.WriteLine("this build only runs engine-child: " + string.Join(' ', args));
    return 2;
#else
    BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Recording).Assembly).Run(args);
    return 0;
#endif
}
