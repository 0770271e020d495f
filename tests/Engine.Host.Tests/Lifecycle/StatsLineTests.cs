using System.Text.Json;

namespace Engine.Host.Tests.Lifecycle;

/// <summary>STATETIME's line from /api/streams documents: counts, per-session rates over the interval, drops since the last line.</summary>
public sealed class StatsLineTests
{
    private static JsonElement Doc(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static string Streams(long aBytes, long? bBytes, long playerBytes, long portDrops)
    {
        string b = bBytes is { } bb ? ", {\"id\": \"b\", \"state\": \"ice\", \"tracks\": [{\"bytes\": " + bb + "}], \"outputs\": []}" : "";
        return $$"""
        {"sessions": {{(bBytes == null ? 1 : 2)}}, "mediaPort": {"droppedUnknownUfrag": {{portDrops}}, "droppedUnknownAddress": 1, "droppedUnknownKind": 0},
         "streams": [
           {"id": "a", "state": "media", "tracks": [{"bytes": {{aBytes}}, "packetsLost": 3, "framesDropped": 1}, {"bytes": 0, "packetsLost": -1}],
            "outputs": [{"state": "live", "framesDropped": 2}, {"state": "connecting", "framesDropped": 0}]}
           {{b}}
         ],
         "playback": [{"id": "p", "tracks": [{"bytesSent": {{playerBytes}}}, {"bytesSent": 0}]}],
         "pulls": [{"stream": "x"}]}
        """;
    }

    [Fact]
    public void RatesAreOverTheIntervalAndPerSession()
    {
        var line = new Engine.Host.StatsLine();
        string first = line.Next(Doc(Streams(1_000_000, 500_000, 2_000_000, 4)), 10, logDropped: 0);
        Assert.StartsWith("stats: sessions 2 (1 with media), players 1, pulls 1, outputs 2 (1 live)", first);
        // 1.5 MB in over 10 s: 1.2 Mb/s; 2 MB out: 1.6 Mb/s.
        Assert.Contains("in 1.20 Mb/s, out 1.60 Mb/s over 10 s", first);
        Assert.Contains("packets lost 3, frames dropped 1, output frames dropped 2", first);
        Assert.Contains("media port drops 5, log lines dropped 0", first);

        // b left; a and the player moved on. b's bytes do not count as negative.
        string second = line.Next(Doc(Streams(2_000_000, null, 2_500_000, 10)), 5, logDropped: 7);
        Assert.StartsWith("stats: sessions 1 (1 with media)", second);
        Assert.Contains("in 1.60 Mb/s, out 0.80 Mb/s over 5 s", second);
        Assert.Contains("media port drops 6, log lines dropped 7", second);
    }

    [Fact]
    public void AnEmptyServerHasALineToo()
    {
        string line = new Engine.Host.StatsLine().Next(Doc("""{"sessions": 0, "streams": [], "playback": []}"""), 1800, 0);
        Assert.StartsWith("stats: sessions 0 (0 with media), players 0, pulls 0, outputs 0 (0 live), in 0.00 Mb/s, out 0.00 Mb/s over 1800 s", line);
    }
}
