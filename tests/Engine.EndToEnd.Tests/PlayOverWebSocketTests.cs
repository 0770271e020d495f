using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 14 §4 over the legacy routes (docs/LEGACY-GATEWAY.md): Chromium publishes with
/// <c>imRTC/sendSdpCall</c>, a Chromium player on the Play tab plays with <c>imRTC/sendSdpPull</c>,
/// a WHEP player in the same page beside it; when the publisher leaves, the WebSocket player gets
/// <c>imRTC/sendErrorNotice</c> and the WHEP player's session ends.
/// </summary>
[Collection("chromium")]
public class PlayOverWebSocketTests
{
    // A second player in the page: recvonly, the offer POSTed to /whep, decoded frames counted from getStats.
    private const string WhepPlayerScript = """
        (async () => { try {
          const pc = new RTCPeerConnection();
          pc.addTransceiver('video', { direction: 'recvonly' });
          pc.addTransceiver('audio', { direction: 'recvonly' });
          window.whepPlayer = pc;
          window.whepStats = {};
          await pc.setLocalDescription(await pc.createOffer());
          const r = await fetch('/whep/STREAM', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
          const body = await r.text();
          if (r.status !== 201) return 'failed ' + r.status + ': ' + body;
          const answerAt = performance.now();
          await pc.setRemoteDescription({ type: 'answer', sdp: body });
          (function poll() {
            pc.getStats().then(st => st.forEach(s => {
              if (s.type === 'inbound-rtp' && s.kind === 'video') {
                window.whepStats.framesDecoded = s.framesDecoded || 0;
                if (s.framesDecoded > 0 && window.whepStats.firstFrameMs === undefined) window.whepStats.firstFrameMs = Math.round(performance.now() - answerAt);
              }
            })).finally(() => { if (pc.connectionState !== 'closed') setTimeout(poll, window.whepStats.firstFrameMs === undefined ? 50 : 500); });
          })();
          return 'ok';
        } catch (e) { return 'failed: ' + e; } })()
        """;

    [Fact]
    public async Task ChromiumPlaysWithSendSdpPullWhatChromiumPublishesWithSendSdpCall()
    {
        using var engine = new EngineProcess();
        const string stream = "ws-play";
        await using var publisher = await PlayTab.PublishAsync(engine, stream, via: "ws");
        await using var player = PlayTab.OpenPlayer(engine, stream, via: "ws");
        Task<JsonElement> Stats() => PlayTab.StatsAsync(player);

        var m = await PlayTab.MeasureAsync(Stats, "Chromium sendSdpPull player", engine);
        var streams = await engine.StreamsAsync();
        var playback = streams.GetProperty("playback").EnumerateArray().Single();
        string diagnostics = $"player stats {m.First} then {m.Last}; engine playback {playback}";
        Assert.True(m.Fps >= 20, $"the player decoded {m.Fps:F1} frames/s; {diagnostics}");
        Assert.True(PlayTab.Double(m.Last, "audioEnergy") > 0, "no audio energy; " + diagnostics);
        await PlayTab.AssertPublishersSizeAsync(Stats, engine, stream);
        Assert.Equal("ws", PlayTab.Publisher(streams, stream)!.Value.GetProperty("signaling").GetString());
        Assert.Equal("ws", playback.GetProperty("signaling").GetString());
        Assert.Equal("media", playback.GetProperty("state").GetString());
        Assert.All(playback.GetProperty("tracks").EnumerateArray(), t => Assert.True(t.GetProperty("packetsSent").GetInt64() > 0, diagnostics));

        // A WHEP player beside it, in the same page.
        string answered = (await player.EvaluateAsync(WhepPlayerScript.Replace("STREAM", stream), awaitPromise: true)).GetString()!;
        Assert.True(answered == "ok", answered + "\n" + engine.Output);
        var whep = await Tools.PollAsync(async () => JsonDocument.Parse((await player.EvaluateAsync("JSON.stringify(window.whepStats)")).GetString()!).RootElement.Clone(),
            s => PlayTab.Long(s, "framesDecoded") > 0, TimeSpan.FromSeconds(60), "the WHEP player's first decoded frame");
        Console.WriteLine($"[first-frame] Chromium WHEP player beside a sendSdpPull one: {PlayTab.Long(whep, "firstFrameMs")} ms from the answer to the first decoded frame (by getStats)");
        Assert.Equal(2, (await engine.StreamsAsync()).GetProperty("players").GetInt32());

        // The publisher hangs up (closes its socket): the WebSocket player is told, the WHEP player's session ends.
        await publisher.EvaluateAsync("stop().then(() => true)", awaitPromise: true);
        var ended = await Tools.PollAsync(Stats, s => s.TryGetProperty("errorNotice", out _), TimeSpan.FromSeconds(30), "imRTC/sendErrorNotice at the WebSocket player");
        Assert.Equal(10, PlayTab.Long(ended.GetProperty("errorNotice"), "errno")); // media failed
        Assert.Contains("publisher", ended.GetProperty("errorNotice").ToString());
        await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("players").GetInt32(), n => n == 0, TimeSpan.FromSeconds(30), "both players to end");
        await Tools.PollAsync(async () => (await player.EvaluateAsync("window.whepPlayer.connectionState")).GetString(), s => s is "closed" or "failed" or "disconnected",
            TimeSpan.FromSeconds(40), "the browser to see the WHEP player end");
        await Tools.PollAsync(async () => (await Stats()).TryGetProperty("socketClosed", out _), closed => closed, TimeSpan.FromSeconds(30), "the WebSocket player's socket to close");
    }
}
