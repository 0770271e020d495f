using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 18's console in headless Chromium against the AOT binary: publish and play from its tabs,
/// the charts draw and the counters move, kick ends the sessions, and the client-side room plays
/// the other member. Screenshots go to tests/Engine.EndToEnd.Tests/TestResults/ for people to look at.
/// </summary>
[Collection("chromium")]
public class ConsoleTests
{
    private const string BrowserArgs = "--use-fake-device-for-media-stream=fps=30 --autoplay-policy=no-user-gesture-required --window-size=1400,1400";

    private static string Screenshot(string name) => Path.Combine(Tools.RepoRoot, "tests", "Engine.EndToEnd.Tests", "TestResults", name);

    [Fact]
    public async Task ChartsDrawCountersMoveAndKickEndsTheSessions()
    {
        using var engine = new EngineProcess();
        const string stream = "console";
        await using var page = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/?loopback=1&video=h264", BrowserArgs);
        await LoadedAsync(page);

        // Publish from the Publish tab and play on the Play tab, by their buttons.
        await page.EvaluateAsync($"$('stream').value = '{stream}'; $('whip').click(); true");
        var state = await Tools.PollAsync(page.StateAsync, s => s == "connected" || s.StartsWith("failed"), TimeSpan.FromSeconds(60), "the publisher to connect");
        Assert.False(state.StartsWith("failed"), state + "\n" + engine.Output);
        await Tools.PollAsync(async () => PlayTab.Publisher(await engine.StreamsAsync(), stream)?.GetProperty("state").GetString() ?? "", s => s == "media",
            TimeSpan.FromSeconds(40), "the publisher's media");
        await page.EvaluateAsync($"document.querySelector('#tabs [data-tab=play]').click(); $('playStream').value = '{stream}'; $('playWhep').click(); true");
        var played = await Tools.PollAsync(() => PlayTab.StatsAsync(page), s => PlayTab.Long(s, "framesDecoded") > 0 || PlayTab.Text(s, "state").StartsWith("failed"),
            TimeSpan.FromSeconds(60), "the player's first frame");
        Assert.False(PlayTab.Text(played, "state").StartsWith("failed"), played + "\n" + engine.Output);

        var streams = await engine.StreamsAsync();
        string publisherId = PlayTab.Publisher(streams, stream)!.Value.GetProperty("id").GetString()!;
        string playerId = streams.GetProperty("playback").EnumerateArray().Single().GetProperty("id").GetString()!;

        // The bitrate and frame-rate charts of both draw several points (coloured pixels, not just the grid);
        // the player's RTT comes from its receiver reports.
        var publisherCharts = await Tools.PollAsync(() => ChartsAsync(page, publisherId), c => Drawn(c, "bitrate") && Drawn(c, "frame rate"),
            TimeSpan.FromSeconds(60), "the publisher's charts");
        var playerCharts = await Tools.PollAsync(() => ChartsAsync(page, playerId), c => Drawn(c, "bitrate") && Drawn(c, "frame rate") && Drawn(c, "RTT", 3),
            TimeSpan.FromSeconds(60), "the player's charts");
        Console.WriteLine($"[console] publisher charts: {publisherCharts}\n[console] player charts: {playerCharts}");
        Assert.EndsWith("fps", Chart(playerCharts, "frame rate").GetProperty("value").GetString());

        // The counters on the cards move between two reads a few seconds apart.
        var before = await PacketsAsync(page, publisherId, playerId);
        var apiBefore = await engine.StreamsAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        var after = await PacketsAsync(page, publisherId, playerId);
        var apiAfter = await engine.StreamsAsync();
        Console.WriteLine($"[console] packets on the cards: publisher {before.Publisher} -> {after.Publisher}, player {before.Player} -> {after.Player}");
        Assert.True(after.Publisher > before.Publisher && after.Player > before.Player, $"{before} -> {after}");
        // The figures the charts are made of, straight from /api/streams over the same seconds.
        long PublisherVideo(JsonElement d, string key) => PlayTab.PublisherVideo(d, stream).GetProperty(key).GetInt64();
        JsonElement PlayerVideo(JsonElement d) => d.GetProperty("playback")[0].GetProperty("tracks").EnumerateArray().Single(t => t.GetProperty("kind").GetString() == "video");
        long publisherFrames = PublisherVideo(apiAfter, "frames") - PublisherVideo(apiBefore, "frames");
        long playerFrames = PlayerVideo(apiAfter).GetProperty("framesSent").GetInt64() - PlayerVideo(apiBefore).GetProperty("framesSent").GetInt64();
        long publisherBytes = PublisherVideo(apiAfter, "bytes") - PublisherVideo(apiBefore, "bytes");
        long playerBytes = PlayerVideo(apiAfter).GetProperty("bytesSent").GetInt64() - PlayerVideo(apiBefore).GetProperty("bytesSent").GetInt64();
        Console.WriteLine($"[console] over ~3 s: publisher video {publisherFrames} frames, {publisherBytes} bytes; player video {playerFrames} frames sent, {playerBytes} bytes; " +
            $"player rttMs {apiAfter.GetProperty("playback")[0].GetProperty("rttMs")}");
        Assert.True(playerFrames > 0 && publisherFrames > 0, $"{publisherFrames} / {playerFrames}");

        await Tools.PollAsync(() => ChartsAsync(page, playerId), c => Points(c, "bitrate") >= 12, TimeSpan.FromSeconds(30), "a dozen points to look at");
        string png = Screenshot("console.png");
        await page.ScreenshotAsync(png);
        Assert.True(new FileInfo(png).Length > 10_000, png);
        Console.WriteLine("[console] screenshot: " + png);

        // Kick the player, then the publisher, from their cards: each leaves /api/streams and the page.
        await page.EvaluateAsync($"document.querySelector('.card[data-id=\"{playerId}\"] .kick').click(); true");
        await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("playback").GetArrayLength(), n => n == 0, TimeSpan.FromSeconds(20), "the kicked player to end");
        await Tools.PollAsync(async () => (await page.EvaluateAsync($"!!document.querySelector('.card[data-id=\"{playerId}\"]')")).GetBoolean(), gone => !gone,
            TimeSpan.FromSeconds(10), "the player's card to go");
        await page.EvaluateAsync($"document.querySelector('.card[data-id=\"{publisherId}\"] .kick').click(); true");
        await Tools.PollAsync(async () => PlayTab.Publisher(await engine.StreamsAsync(), stream) is null, gone => gone, TimeSpan.FromSeconds(20), "the kicked publisher to end");
        await Tools.PollAsync(async () => (await page.EvaluateAsync("document.querySelectorAll('.card').length")).GetInt32(), n => n == 0,
            TimeSpan.FromSeconds(10), "every card to go");
    }

    [Fact]
    public async Task RoomTabPlaysTheOtherMembers()
    {
        using var engine = new EngineProcess();
        string Url(string user) => $"http://127.0.0.1:{engine.HttpPort}/?tab=room&room=r1&user={user}&autostart=1&loopback=1";
        await using var alice = new ChromiumPage(Url("alice"), BrowserArgs);
        await using var bob = new ChromiumPage(Url("bob"), BrowserArgs);

        // Each member publishes r1.NAME and plays the other's stream in a tile.
        foreach (var (page, other) in new[] { (alice, "r1.bob"), (bob, "r1.alice") })
        {
            var s = await Tools.PollAsync(() => RoomAsync(page), r => Frames(r, other) > 0 || PlayTab.Text(r, "state").Contains("failed"),
                TimeSpan.FromSeconds(90), other + "'s tile to decode");
            Assert.DoesNotContain("failed", PlayTab.Text(s, "state"));
        }
        var streams = await engine.StreamsAsync();
        Assert.Equal(new[] { "r1.alice", "r1.bob" }, streams.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("stream").GetString()).Order());
        Assert.Equal(2, streams.GetProperty("players").GetInt32());
        await Task.Delay(TimeSpan.FromSeconds(3)); // a few frames in the tiles for the picture
        string png = Screenshot("console-room.png");
        await alice.ScreenshotAsync(png);
        Console.WriteLine("[console] room screenshot: " + png);

        // Alice leaves: her stream and her player end, Bob's player of her ends with it and his tile of her goes.
        await alice.EvaluateAsync("$('roomLeave').click(); true");
        await Tools.PollAsync(async () => PlayTab.Publisher(await engine.StreamsAsync(), "r1.alice") is null, gone => gone, TimeSpan.FromSeconds(20), "r1.alice to end");
        await Tools.PollAsync(async () => (await bob.EvaluateAsync("document.querySelectorAll('#roomTiles .tile').length")).GetInt32(), n => n == 1,
            TimeSpan.FromSeconds(20), "bob's tile of alice to go (his own stays)");
        await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("players").GetInt32(), n => n == 0, TimeSpan.FromSeconds(20), "the room's players to end");
    }

    private static async Task LoadedAsync(ChromiumPage page) =>
        await Tools.PollAsync(async () => (await page.EvaluateAsync("location.protocol + document.readyState")).GetString() ?? "", s => s == "http:complete",
            TimeSpan.FromSeconds(30), "the console"); // not the first about:blank

    /// <summary>Each chart of a card: its label, points drawn, coloured pixels on its canvas and the value shown.</summary>
    private static async Task<JsonElement> ChartsAsync(ChromiumPage page, string id)
    {
        string json = (await page.EvaluateAsync($$"""
            JSON.stringify([...document.querySelectorAll('.card[data-id="{{id}}"] > .charts .chart')].map(ch => {
              const c = ch.querySelector('canvas'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              let coloured = 0;
              for (let i = 0; i < d.length; i += 4)
                if (d[i + 3] > 0 && (Math.abs(d[i] - d[i + 1]) > 24 || Math.abs(d[i + 1] - d[i + 2]) > 24)) coloured++;
              return { label: ch.querySelector('span').textContent, points: +(c.dataset.points || 0), coloured, value: ch.querySelector('b').textContent };
            }))
            """)).GetString() ?? "[]";
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    private static JsonElement Chart(JsonElement charts, string label) => charts.EnumerateArray().Single(c => c.GetProperty("label").GetString() == label);
    private static int Points(JsonElement charts, string label) => charts.GetArrayLength() == 0 ? 0 : Chart(charts, label).GetProperty("points").GetInt32();

    private static bool Drawn(JsonElement charts, string label, int points = 5) =>
        charts.GetArrayLength() > 0 && Points(charts, label) >= points && Chart(charts, label).GetProperty("coloured").GetInt32() > 100;

    private static async Task<(long Publisher, long Player)> PacketsAsync(ChromiumPage page, string publisherId, string playerId)
    {
        async Task<long> Read(string id) => long.Parse((await page.EvaluateAsync($"document.querySelector('.card[data-id=\"{id}\"]').dataset.packets")).GetString()!);
        return (await Read(publisherId), await Read(playerId));
    }

    private static async Task<JsonElement> RoomAsync(ChromiumPage page) =>
        JsonDocument.Parse((await page.EvaluateAsync("JSON.stringify(window.roomStats || {})")).GetString() ?? "{}").RootElement.Clone();

    private static long Frames(JsonElement room, string stream) =>
        room.TryGetProperty(stream, out var s) ? PlayTab.Long(s, "framesDecoded") : 0;
}
