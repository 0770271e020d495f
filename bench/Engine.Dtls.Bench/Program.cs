using BenchmarkDotNet.Running;
using Engine.Dtls.Bench;

// `--cpu`: process CPU time per handshake, which a machine shared with other jobs distorts less than wall time.
if (args.Length > 0 && args[0] == "--cpu")
{
    HandshakeCpuTime.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
