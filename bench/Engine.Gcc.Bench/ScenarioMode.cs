using System.Globalization;
using Engine.Gcc.Tests;

namespace Engine.Gcc.Bench;

/// <summary>Runs every send-side scenario, prints the per-phase tables and goal figures, writes the series.</summary>
public static class ScenarioMode
{
    public static int Run(string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var make in SendSideScenarios.All())
        {
            var s = make().Run();
            foreach (var line in s.Table())
                Console.WriteLine(line);
            double end = s.DurationMicros / 1e6;
            if (s.Loop.Flows.Count > 1)
            {
                Console.WriteLine(FormattableString.Invariant($"  Jain index 30-{end:0} s: {s.Jain(30, end):0.000}"));
                if (s.Name == "5.2")
                    for (int i = 0; i < s.Stats![0].Length; i++)
                    {
                        var a = s.Stats[0][i];
                        var b = s.Stats[1][i];
                        Console.WriteLine(FormattableString.Invariant(
                            $"  phase {a.StartMicros / 1e6:0}-{a.EndMicros / 1e6:0} s: both {(a.SettledThroughputBps + b.SettledThroughputBps) / a.CapacityBps:P0}, Jain {SendSideLoop.Jain([a.SettledThroughputBps, b.SettledThroughputBps]):0.000}"));
                    }
            }
            var (min, max) = s.TargetRange(0, 5, end);
            Console.WriteLine(FormattableString.Invariant(
                $"  target after 5 s: {min / 1e3:0}-{max / 1e3:0} kbps; 5 Mbps received at {s.SecondsToReach(0, 5_000_000):0.0} s (for good from {s.SecondsToStayAbove(0, 5_000_000):0.0} s), targeted at {s.SecondsToTarget(0, 5_000_000):0.0} s"));
            Console.WriteLine();
            string path = Path.Combine(dir, $"gcc-send-{s.Name}.csv");
            using var w = new StreamWriter(path);
            w.WriteLine($"# {s.Name}: {s.Title}");
            w.WriteLine("flow,seconds,target_bps,capacity_bps,received_bps,max_queue_ms,mean_queue_ms");
            foreach (var f in s.Loop.Flows)
                foreach (var x in f.Series)
                    w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{f.Name},{x.Seconds:0.0},{x.TargetBps},{x.CapacityBps},{x.ReceivedBps:0},{x.MaxQueueDelayMs:0.0},{x.MeanQueueDelayMs:0.0}"));
        }
        return 0;
    }
}
