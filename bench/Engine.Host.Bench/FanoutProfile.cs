namespace Engine.Host.Bench;

/// <summary>
/// <c>fanout-profile N [seconds]</c>: FanoutBenchmarks' Forward (the real forward path, no sendmmsg)
/// for N players in a loop, for perf stat/record attached after setup (the handshakes are not in it):
/// prints its pid and "ready", then runs for the given seconds (10) and prints thread CPU per packet per player.
/// </summary>
internal static class FanoutProfile
{
    public static int Run(string[] args)
    {
        int players = args.Length > 0 ? int.Parse(args[0]) : 1000;
        double seconds = args.Length > 1 ? double.Parse(args[1]) : 10;
        var bench = new FanoutBenchmarks { Players = players };
        bench.Setup();
        for (int i = 0; i < 200; i++)
            bench.Forward(); // JIT tiers and the rings warm
        Console.WriteLine($"pid {Environment.ProcessId} ready");
        Console.Out.Flush();
        long cpu = ThreadCpu.Nanos(), rounds = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            bench.Forward();
            rounds++;
        }
        long spent = ThreadCpu.Nanos() - cpu;
        Console.WriteLine($"fanout-profile N={players}: {(double)spent / (rounds * 1000):F1} ns thread CPU per packet per player over {rounds * 1000} player-packets, {clock.Elapsed.TotalSeconds:F1} s wall");
        bench.Cleanup();
        return 0;
    }
}
