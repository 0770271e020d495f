using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 14 §4: Firefox ESR (NSS's DTLS, its own SDP and jitter buffer) plays over WHEP what a
/// Chromium publishes over WHIP. VP8: Firefox has no OpenH264 plugin here. Firefox gathers no loopback
/// candidates, so it runs in a network namespace of the test's own (as in <see cref="PublishFromFirefoxTests"/>);
/// it cannot be scripted, so the test page's Play tab POSTs its counters to a listener of the test's.
/// </summary>
[Collection("chromium")] // one browser test at a time: the machine has two cores
public class PlayOnFirefoxTests
{
    internal const string AutoplayPrefs = """
        user_pref("media.autoplay.default", 0);
        user_pref("media.autoplay.blocking_policy", 0);
        user_pref("media.autoplay.block-webaudio", false);
        """;

    [Fact]
    public async Task FirefoxPlaysOverWhepWhatChromiumPublishesOverWhip()
    {
        using var ns = new NetNamespace();
        using var engine = new EngineProcess(localIp: ns.HostAddress);
        const string stream = "ff-play";
        await using var publisher = await PlayTab.PublishAsync(engine, stream, "whip", "vp8", ns.HostAddress);
        using var reports = new PlayerReportListener(ns.HostAddress);
        using var firefox = new FirefoxPage($"http://{ns.HostAddress}:{engine.HttpPort}/?stream={stream}&play=whep&autostart=1&report={Uri.EscapeDataString(reports.Url)}",
            ns, AutoplayPrefs);

        var m = await PlayTab.MeasureAsync(reports.LatestAsync, "Firefox WHEP player", engine);
        var streams = await engine.StreamsAsync();
        var playback = streams.GetProperty("playback").EnumerateArray().Single();
        string diagnostics = $"player reports {m.First} then {m.Last}; engine playback {playback}";
        Assert.True(m.Fps >= 20, $"Firefox decoded {m.Fps:F1} frames/s; {diagnostics}");
        Assert.True(PlayTab.Double(m.Last, "audioEnergy") > 0 || PlayTab.Double(m.Last, "analyserEnergy") > 0, "no audio energy; " + diagnostics);
        await PlayTab.AssertPublishersSizeAsync(reports.LatestAsync, engine, stream);
        Assert.Equal("whep", playback.GetProperty("signaling").GetString());
        Assert.Equal("media", playback.GetProperty("state").GetString());
        Assert.StartsWith(ns.InsideAddress + ":", playback.GetProperty("remote").GetString());
        Assert.Equal("VP8", playback.GetProperty("tracks").EnumerateArray().Single(t => t.GetProperty("kind").GetString() == "video").GetProperty("codec").GetString());
        Assert.All(playback.GetProperty("tracks").EnumerateArray(), t => Assert.True(t.GetProperty("packetsSent").GetInt64() > 0, diagnostics));
        // Listed under its publisher too.
        var under = PlayTab.Publisher(streams, stream)!.Value.GetProperty("players").EnumerateArray().Single();
        Assert.Equal(playback.GetProperty("id").GetString(), under.GetProperty("id").GetString());
    }
}
