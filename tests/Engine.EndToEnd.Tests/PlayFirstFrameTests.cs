namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 14 §4's bench figure: the time from the WHEP answer to the player's first decoded frame
/// (ICE, DTLS, the keyframe request to the publisher and its keyframe), over several joins of the
/// Play tab to one Chromium publish. Printed, not asserted: the machine is shared.
/// </summary>
[Collection("chromium")]
public class PlayFirstFrameTests
{
    private const int Joins = 5;

    [Fact]
    public async Task TimeFromWhepAnswerToFirstDecodedFrame()
    {
        using var engine = new EngineProcess();
        const string stream = "first-frame";
        await using var publisher = await PlayTab.PublishAsync(engine, stream);
        await using var player = PlayTab.OpenPlayer(engine, stream);
        var times = new List<long>();
        for (int i = 0; i < Joins; i++)
        {
            if (i > 0)
                await player.EvaluateAsync("startPlaying(playWhep)");
            var s = await Tools.PollAsync(() => PlayTab.StatsAsync(player),
                s => s.TryGetProperty("firstDecodedMs", out _) || PlayTab.Text(s, "state").StartsWith("failed"), TimeSpan.FromSeconds(60), $"join {i + 1}'s first decoded frame");
            Assert.False(PlayTab.Text(s, "state").StartsWith("failed"), s + "\n" + engine.Output);
            long ms = PlayTab.Ms(s, "firstDecodedMs");
            times.Add(ms);
            Console.WriteLine($"[first-frame] Chromium WHEP join {i + 1}: {ms} ms from the answer to the first decoded frame (getStats), " +
                $"{PlayTab.Ms(s, "firstPresentedMs")} ms to the first presented (requestVideoFrameCallback; -1: not yet), the answer {PlayTab.Long(s, "answerMs")} ms after the POST");
            Assert.True(PlayTab.Long(s, "framesDecoded") > 0, s.ToString());
            await player.EvaluateAsync("stopPlaying().then(() => true)", awaitPromise: true);
            await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("players").GetInt32(), n => n == 0, TimeSpan.FromSeconds(20), "the player to end");
        }
        times.Sort();
        Console.WriteLine($"[first-frame] {Joins} joins: min {times[0]} ms, median {times[Joins / 2]} ms, max {times[^1]} ms");
        Assert.All(times, t => Assert.True(t >= 0));
    }
}
