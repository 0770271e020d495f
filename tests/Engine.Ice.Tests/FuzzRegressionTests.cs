using System.Net;
using Engine.Ice;

namespace Engine.Ice.Tests;

/// <summary>Crashes fuzz/ found, replayed as the fuzz target replays them (fuzz/README.md).</summary>
public class FuzzRegressionTests
{
    public static TheoryData<string> IceInputs() => new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "FuzzRegressions", "ice")).Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(IceInputs))]
    public void IceLiteAgentSurvives(string file)
    {
        var datagram = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "FuzzRegressions", "ice", file));
        // The fuzz target's agent: the answerer of the Chromium fixtures.
        var agent = new IceLiteAgent("6soA", "5PXyuI0CUP0DSJClaph46Xds", "xxcb", 0);
        var response = new byte[1500];
        var result = agent.HandleStun(datagram, NetAddress.FromIPEndPoint(IPEndPoint.Parse("127.0.0.1:50000")), 1000, response, out int length);
        if (file == "stun-420-more-than-8-unknown-attributes")
        {
            // More unknown comprehension-required attributes than the answer lists: still a 420.
            Assert.Equal(IceCheckResult.ErrorAnswered, result);
            Assert.True(StunMessageView.TryRead(response.AsSpan(0, length), out var m));
            Assert.True(m.TryGetErrorCode(out int code, out _));
            Assert.Equal(420, code);
        }
    }
}
