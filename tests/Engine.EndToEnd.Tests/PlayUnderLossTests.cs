namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 14 §4: a Chromium player under 5% loss on our send side ([RTP] RTP_PLAY_LOSS, seeded; this
/// kernel has no netem) sends NACKs, our retransmissions (RTX, themselves in the drop lottery)
/// repair the video, and frames keep decoding.
/// </summary>
[Collection("chromium")]
public class PlayUnderLossTests
{
    [Fact]
    public async Task ChromiumPlayerUnderFivePercentLossNacksAndKeepsDecoding()
    {
        using var engine = new EngineProcess("[RTP]\nRTP_PLAY_LOSS=5\nRTP_PLAY_LOSS_SEED=14");
        const string stream = "lossy-play";
        await using var publisher = await PlayTab.PublishAsync(engine, stream);
        await using var player = PlayTab.OpenPlayer(engine, stream);
        Task<System.Text.Json.JsonElement> Stats() => PlayTab.StatsAsync(player);

        var m = await PlayTab.MeasureAsync(Stats, "Chromium WHEP player at 5% loss", engine);
        var streams = await engine.StreamsAsync();
        var playback = streams.GetProperty("playback").EnumerateArray().Single();
        var video = playback.GetProperty("tracks").EnumerateArray().Single(t => t.GetProperty("kind").GetString() == "video");
        string diagnostics = $"player stats {m.First} then {m.Last}; engine playback {playback}";
        Console.WriteLine($"lossy player: nackCount {PlayTab.Long(m.Last, "nackCount")}, engine: {video.GetProperty("nacksReceived")} NACKs received, " +
            $"{video.GetProperty("retransmissions")} retransmissions, {playback.GetProperty("counters").GetProperty("simulatedLoss")} packets dropped on purpose");

        Assert.True(playback.GetProperty("counters").GetProperty("simulatedLoss").GetInt64() > 0, diagnostics);
        Assert.True(PlayTab.Long(m.Last, "nackCount") > 0, "the player sent no NACK; " + diagnostics);
        Assert.True(video.GetProperty("nacksReceived").GetInt64() > 0, diagnostics);
        Assert.True(video.GetProperty("retransmissions").GetInt64() > 0, "no retransmission; " + diagnostics);
        Assert.True(m.Fps >= 20, $"the player decoded {m.Fps:F1} frames/s under loss; {diagnostics}");
        Assert.Equal("media", playback.GetProperty("state").GetString());
        // The summary under the publisher says the same.
        var under = PlayTab.Publisher(streams, stream)!.Value.GetProperty("players").EnumerateArray().Single();
        Assert.True(under.GetProperty("retransmissions").GetInt64() > 0, under.ToString());
    }
}
