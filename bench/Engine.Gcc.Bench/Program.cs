using BenchmarkDotNet.Running;
using Engine.Gcc.Bench;

// `--scenarios [dir]` runs the send-side closed-loop cases, prints their figures and writes one CSV per
// case into dir (for plot_send_side.py); anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "--scenarios")
    return ScenarioMode.Run(args.Length > 1 ? args[1] : ".");
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
