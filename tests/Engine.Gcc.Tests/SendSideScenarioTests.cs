using Xunit.Abstractions;

namespace Engine.Gcc.Tests;

/// <summary>The send side in closed loop over the emulated path: the RFC 8867 cases.</summary>
public class SendSideScenarioTests(ITestOutputHelper output)
{
    private SendSideScenario Run(Func<SendSideScenario> make)
    {
        var s = make().Run();
        foreach (var line in s.Table())
            output.WriteLine(line);
        return s;
    }

    [Fact]
    public void Print_All()
    {
        foreach (var make in SendSideScenarios.All())
        {
            var s = Run(make);
            output.WriteLine($"to 5 Mbps: {s.SecondsToReach(0, 5_000_000)} s; target range {s.TargetRange(0, 5, s.DurationMicros / 1e6)}");
            if (s.Loop.Flows.Count > 1) output.WriteLine($"jain after 30 s: {s.Jain(30, s.DurationMicros / 1e6):0.000}");
        }
    }
}
