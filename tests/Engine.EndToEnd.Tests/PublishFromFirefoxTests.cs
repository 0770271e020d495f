using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Headless Firefox ESR (NSS's DTLS, its own SDP: a bundle-only video m-line, VP8 since it has no
/// OpenH264 plugin here) publishes to the AOT binary over WHIP. Firefox gathers no loopback
/// candidates, so it runs in a network namespace of the test's own, wired to the engine by a veth pair.
/// </summary>
[Collection("chromium")] // one browser at a time: the machine has two cores
public class PublishFromFirefoxTests
{
    [Fact]
    public async Task FirefoxPublishesCameraAndMicrophone()
    {
        using var ns = new NetNamespace();
        using var engine = new EngineProcess(localIp: ns.HostAddress);
        const string stream = "firefox";
        JsonElement session;
        using (new FirefoxPage($"http://{ns.HostAddress}:{engine.HttpPort}/?stream={stream}&autostart=1&via=whip", ns))
        {
            await Tools.PollAsync(async () => Session(await engine.StreamsAsync()),
                s => s.ValueKind == JsonValueKind.Object && s.GetProperty("state").GetString() == "media",
                TimeSpan.FromSeconds(60), "media from Firefox");
            await Task.Delay(TimeSpan.FromSeconds(8)); // enough frames for the counts below
            session = Session(await engine.StreamsAsync());
            Assert.Equal("whip", session.GetProperty("signaling").GetString());
            Assert.StartsWith(ns.InsideAddress + ":", session.GetProperty("remote").GetString());
            Assert.False(string.IsNullOrEmpty(session.GetProperty("srtpProfile").GetString()));
            var tracks = session.GetProperty("tracks").EnumerateArray().ToList();
            var video = tracks.Single(t => t.GetProperty("kind").GetString() == "video");
            var audio = tracks.Single(t => t.GetProperty("kind").GetString() == "audio");
            Assert.Equal("VP8", video.GetProperty("codec").GetString());
            Assert.Equal("OPUS", audio.GetProperty("codec").GetString());
            Assert.True(video.GetProperty("frames").GetInt64() >= 5 * 8, video.ToString());
            Assert.True(video.GetProperty("keyframes").GetInt64() >= 1);
            Assert.True(video.GetProperty("width").GetInt32() > 0 && video.GetProperty("height").GetInt32() > 0);
            Assert.True(audio.GetProperty("frames").GetInt64() >= 40 * 8, audio.ToString());
            Assert.Equal(0, session.GetProperty("counters").GetProperty("srtpAuthFailed").GetInt64());

            // Hang up as a WHIP client does; the session and its recording close.
            var r = await engine.Http.DeleteAsync($"/whip/{stream}/{session.GetProperty("id").GetString()}");
            Assert.True(r.IsSuccessStatusCode, r.StatusCode.ToString());
            await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("sessions").GetInt32(), n => n == 0, TimeSpan.FromSeconds(15), "the session to end");
        }
        PublishFromChromiumTests.AssertRecorded(engine, stream);
    }

    private static JsonElement Session(JsonElement streams) =>
        streams.GetProperty("streams").EnumerateArray().FirstOrDefault();
}
