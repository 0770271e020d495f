using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 14 §3's proof: one headless Chromium publishes its fake camera and microphone over WHIP,
/// a second one plays the stream back over WHEP from the same engine, and its decoder says what
/// it got: frames decoded, their size, audio energy.
/// </summary>
[Collection("chromium")]
public class PlayFromChromiumTests
{
    private static readonly TimeSpan PlayFor = TimeSpan.FromSeconds(10);

    // The player (any page: the WHEP URL is absolute and CORS allows it): recvonly transceivers, the offer POSTed to /whep, the answer set; the media shown in a <video>.
    private const string PlayerScript = """
        (async () => { try {
          const pc = new RTCPeerConnection();
          pc.addTransceiver('video', { direction: 'recvonly' });
          pc.addTransceiver('audio', { direction: 'recvonly' });
          const media = new MediaStream();
          const el = document.createElement('video');
          el.autoplay = true; el.playsInline = true; el.srcObject = media;
          document.body.appendChild(el);
          pc.ontrack = e => { media.addTrack(e.track); el.play().catch(() => {}); };
          window.player = pc;
          await pc.setLocalDescription(await pc.createOffer());
          const r = await fetch('WHEPURL', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
          const body = await r.text();
          if (r.status !== 201) return 'failed ' + r.status + ': ' + body;
          window.playerLocation = r.headers.get('Location');
          await pc.setRemoteDescription({ type: 'answer', sdp: body });
          return 'ok';
        } catch (e) { return 'failed: ' + e; } })()
        """;

    private const string StatsScript = """
        (async () => {
          const out = { state: window.player.connectionState };
          (await window.player.getStats()).forEach(s => {
            if (s.type !== 'inbound-rtp') return;
            if (s.kind === 'video') { out.framesDecoded = s.framesDecoded || 0; out.width = s.frameWidth || 0; out.height = s.frameHeight || 0; out.videoPackets = s.packetsReceived || 0; out.nacks = s.nackCount || 0; }
            else { out.audioEnergy = s.totalAudioEnergy || 0; out.audioPackets = s.packetsReceived || 0; }
          });
          return JSON.stringify(out);
        })()
        """;

    private static async Task<JsonElement> StatsAsync(ChromiumPage page) =>
        JsonDocument.Parse((await page.EvaluateAsync(StatsScript, awaitPromise: true)).GetString()!).RootElement.Clone();

    [Fact]
    public async Task ChromiumPlaysOverWhepWhatChromiumPublishesOverWhip()
    {
        using var engine = new EngineProcess();
        const string stream = "live-whep";
        await using var publisher = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/?stream={stream}&autostart=1&loopback=1&via=whip&video=h264",
            "--use-fake-device-for-media-stream=fps=30"); // the fake camera's default is 20 frames/s
        var state = await Tools.PollAsync(publisher.StateAsync, s => s is "connected" or "media flowing" || s.StartsWith("failed"), TimeSpan.FromSeconds(40), "the publisher to connect");
        Assert.False(state.StartsWith("failed"), state + "\n" + engine.Output);
        await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("streams").EnumerateArray().SingleOrDefault().ValueKind == JsonValueKind.Object
            ? (await engine.StreamsAsync()).GetProperty("streams")[0].GetProperty("state").GetString() : "", s => s == "media", TimeSpan.FromSeconds(20), "the publisher's media");

        await using var player = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/?stream=unused", "--autoplay-policy=no-user-gesture-required");
        // The page starts as about:blank; a script run before the navigation dies with its context.
        await Tools.PollAsync(async () => (await player.EvaluateAsync("location.protocol + document.readyState")).GetString(), s => s == "http:complete",
            TimeSpan.FromSeconds(30), "the player page");
        string answered = (await player.EvaluateAsync(PlayerScript.Replace("WHEPURL", $"http://127.0.0.1:{engine.HttpPort}/whep/{stream}"), awaitPromise: true)).GetString()!;
        Assert.True(answered == "ok", answered + "\n" + engine.Output);

        var first = await Tools.PollAsync(() => StatsAsync(player), s => s.TryGetProperty("framesDecoded", out var f) && f.GetInt64() > 0,
            TimeSpan.FromSeconds(20), "the player's first decoded frame");
        var t0 = DateTime.UtcNow;
        await Task.Delay(PlayFor);
        var last = await StatsAsync(player);
        double seconds = (DateTime.UtcNow - t0).TotalSeconds;
        var streams = await engine.StreamsAsync();
        var publisherVideo = streams.GetProperty("streams").EnumerateArray().Single().GetProperty("tracks").EnumerateArray()
            .Single(t => t.GetProperty("kind").GetString() == "video");
        var playback = streams.GetProperty("playback").EnumerateArray().Single();
        string diagnostics = $"player stats {first} then {last}; engine playback {playback}";

        double fps = (last.GetProperty("framesDecoded").GetInt64() - first.GetProperty("framesDecoded").GetInt64()) / seconds;
        Console.WriteLine($"WHEP player: {fps:F1} frames/s decoded over {seconds:F1} s, {last.GetProperty("width")}x{last.GetProperty("height")}, audio energy {last.GetProperty("audioEnergy").GetDouble():F2}; {diagnostics}");
        Assert.True(fps >= 20, $"the player decoded {fps:F1} frames/s; {diagnostics}");
        Assert.True(last.GetProperty("audioEnergy").GetDouble() > 0, "no audio energy; " + diagnostics);
        Assert.Equal(publisherVideo.GetProperty("width").GetInt32(), last.GetProperty("width").GetInt32());
        Assert.Equal(publisherVideo.GetProperty("height").GetInt32(), last.GetProperty("height").GetInt32());
        Assert.Equal("whep", playback.GetProperty("signaling").GetString());
        Assert.Equal("media", playback.GetProperty("state").GetString());
        var sent = playback.GetProperty("tracks").EnumerateArray().ToList();
        Assert.All(sent, t => Assert.True(t.GetProperty("packetsSent").GetInt64() > 0, diagnostics));

        // The publisher hangs up: the player's session ends with it.
        await publisher.EvaluateAsync("stop().then(() => true)", awaitPromise: true);
        await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("players").GetInt32(), n => n == 0, TimeSpan.FromSeconds(15), "the player to end");
        await Tools.PollAsync(async () => (await player.EvaluateAsync("window.player.connectionState")).GetString(), s => s is "closed" or "failed" or "disconnected",
            TimeSpan.FromSeconds(40), "the browser to see the player end");
    }
}
