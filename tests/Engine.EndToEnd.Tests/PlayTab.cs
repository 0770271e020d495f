using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// The test page's two halves driven from tests: a Chromium publisher (its fake camera at 30 frames/s)
/// and players on the Play tab (<c>?play=whep|ws&amp;autostart=1</c>), whose counters are
/// <c>window.playStats</c>: framesDecoded, width, height, nackCount, audioEnergy, firstDecodedMs and
/// firstPresentedMs (from the answer to the first decoded and presented frame), errorNotice.
/// </summary>
internal static class PlayTab
{
    public static readonly TimeSpan PlayFor = TimeSpan.FromSeconds(10);

    /// <summary>A Chromium publisher on the test page; returns once the engine says its media flows.</summary>
    public static async Task<ChromiumPage> PublishAsync(EngineProcess engine, string stream, string via = "whip", string codec = "h264", string host = "127.0.0.1")
    {
        string origin = $"http://{host}:{engine.HttpPort}";
        // getUserMedia needs a secure context: loopback is one, the namespace's veth address is not.
        string secure = host == "127.0.0.1" ? "" : $" --unsafely-treat-insecure-origin-as-secure={origin}";
        var page = new ChromiumPage($"{origin}/?stream={stream}&autostart=1{(host == "127.0.0.1" ? "&loopback=1" : "")}&via={via}&video={codec}",
            "--use-fake-device-for-media-stream=fps=30" + secure); // the fake camera's default is 20 frames/s
        try
        {
            var state = await Tools.PollAsync(page.StateAsync, s => s is "connected" or "media flowing" || s.StartsWith("failed"), TimeSpan.FromSeconds(60), "the publisher to connect");
            Assert.False(state.StartsWith("failed"), state + "\n" + engine.Output);
            await Tools.PollAsync(async () => Publisher(await engine.StreamsAsync(), stream) is { } s ? s.GetProperty("state").GetString() : "", s => s == "media",
                TimeSpan.FromSeconds(40), "the publisher's media");
            return page;
        }
        catch
        {
            await page.DisposeAsync();
            throw;
        }
    }

    public static JsonElement? Publisher(JsonElement streams, string stream) =>
        streams.GetProperty("streams").EnumerateArray().Where(s => s.GetProperty("stream").GetString() == stream).Select(s => (JsonElement?)s).FirstOrDefault();

    public static JsonElement PublisherVideo(JsonElement streams, string stream) =>
        Publisher(streams, stream)!.Value.GetProperty("tracks").EnumerateArray().Single(t => t.GetProperty("kind").GetString() == "video");

    /// <summary>A Chromium player on the Play tab, started at once.</summary>
    public static ChromiumPage OpenPlayer(EngineProcess engine, string stream, string via = "whep") =>
        new($"http://127.0.0.1:{engine.HttpPort}/?stream={stream}&play={via}&autostart=1", "--autoplay-policy=no-user-gesture-required");

    public static async Task<JsonElement> StatsAsync(ChromiumPage page)
    {
        string json = (await page.EvaluateAsync("JSON.stringify(window.playStats || {})")).GetString() ?? "{}";
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    public static long Long(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? (long)v.GetDouble() : 0;
    public static double Double(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;

    public sealed record Measured(JsonElement First, JsonElement Last, double Seconds, double Fps, long FirstFrameMs);

    /// <summary>Waits for the first decoded frame (bounded), then measures decoded frames per second over <see cref="PlayFor"/>.</summary>
    public static async Task<Measured> MeasureAsync(Func<Task<JsonElement>> stats, string what, EngineProcess engine)
    {
        var first = await Tools.PollAsync(stats, s => Long(s, "framesDecoded") > 0 || Text(s, "state").StartsWith("failed"), TimeSpan.FromSeconds(60), what + "'s first decoded frame");
        Assert.False(Text(first, "state").StartsWith("failed"), $"{what}: {first}\n{engine.Output}");
        var t0 = DateTime.UtcNow;
        await Task.Delay(PlayFor);
        var last = await stats();
        double seconds = (DateTime.UtcNow - t0).TotalSeconds;
        double fps = (Long(last, "framesDecoded") - Long(first, "framesDecoded")) / seconds;
        long decodedMs = Ms(last, "firstDecodedMs"), presentedMs = Ms(last, "firstPresentedMs");
        // bench/results/playback-e2e.md collects these lines.
        Console.WriteLine($"[first-frame] {what}: {decodedMs} ms from the answer to the first decoded frame (getStats, 50 ms polls), " +
            $"{(presentedMs >= 0 ? presentedMs + " ms" : "n/a")} to the first presented (requestVideoFrameCallback); {fps:F1} frames/s decoded over {seconds:F1} s at {Long(last, "width")}x{Long(last, "height")}");
        return new Measured(first, last, seconds, fps, decodedMs);
    }

    /// <summary>A time the page measured, -1 when it has none.</summary>
    public static long Ms(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? (long)v.GetDouble() : -1;

    public static string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    /// <summary>The player's decoded size becomes the publisher's (a browser publisher may rescale under load, so both are sampled until they agree).</summary>
    public static async Task AssertPublishersSizeAsync(Func<Task<JsonElement>> stats, EngineProcess engine, string stream)
    {
        await Tools.PollAsync(async () =>
        {
            var pub = PublisherVideo(await engine.StreamsAsync(), stream);
            var s = await stats();
            bool same = pub.GetProperty("width").GetInt64() == Long(s, "width") && pub.GetProperty("height").GetInt64() == Long(s, "height") && Long(s, "width") > 0;
            return $"{(same ? "same" : "differ")}: publisher {pub.GetProperty("width")}x{pub.GetProperty("height")}, player {Long(s, "width")}x{Long(s, "height")}";
        }, r => r.StartsWith("same"), TimeSpan.FromSeconds(20), "the player's frame size to be the publisher's");
    }
}
