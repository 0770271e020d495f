using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// Issue 17's browser proof: Chromium takes REST credentials from <c>imRTC/sendGetToken</c>, then
/// two peer connections in one page with <c>iceTransportPolicy: 'relay'</c> exchange the fake
/// camera through our TURN server (both sides relayed: relay to relay on loopback, which
/// allowed-peer-ip opens). The receiving side must decode frames over a relay candidate pair.
/// </summary>
[Collection("chromium")]
public class TurnChromiumTests
{
    private const string Script = """
        (async () => { try {
          const token = await new Promise((resolve, reject) => {
            const ws = new WebSocket('ws://' + location.host + '/ws');
            ws.onopen = () => ws.send(JSON.stringify({ id: 1, route: 'imRTC/sendGetToken', req_data: { user_id: 'alice' } }));
            ws.onmessage = e => { resolve(JSON.parse(e.data)); ws.close(); };
            ws.onclose = e => reject('websocket closed ' + e.code + ' ' + e.reason);
            setTimeout(() => reject('no token reply'), 5000);
          });
          if (token.errno !== 0) return 'failed: token ' + JSON.stringify(token);
          const iceServers = token.data.iceServers.map(s => ({ urls: s.urls.filter(u => u.startsWith('turn:') && u.endsWith('udp')), username: s.username, credential: s.credential }));
          window.iceServers = iceServers;
          const config = { iceServers, iceTransportPolicy: 'relay' };
          const a = new RTCPeerConnection(config), b = new RTCPeerConnection(config);
          window.a = a; window.b = b;
          a.onicecandidate = e => e.candidate && b.addIceCandidate(e.candidate);
          b.onicecandidate = e => e.candidate && a.addIceCandidate(e.candidate);
          const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
          media.getTracks().forEach(t => a.addTrack(t, media));
          await a.setLocalDescription(await a.createOffer());
          await b.setRemoteDescription(a.localDescription);
          await b.setLocalDescription(await b.createAnswer());
          await a.setRemoteDescription(b.localDescription);
          return 'ok';
        } catch (e) { return 'failed: ' + e; } })()
        """;

    private const string StatsScript = """
        (async () => {
          const out = { state: window.b.connectionState, framesDecoded: 0, audioPackets: 0, localType: '', remoteType: '' };
          const stats = await window.b.getStats();
          stats.forEach(s => {
            if (s.type === 'inbound-rtp' && s.kind === 'video') out.framesDecoded = s.framesDecoded || 0;
            if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPackets = s.packetsReceived || 0;
            if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
              out.localType = stats.get(s.localCandidateId).candidateType;
              out.remoteType = stats.get(s.remoteCandidateId).candidateType;
            }
          });
          return JSON.stringify(out);
        })()
        """;

    [Fact]
    public async Task TwoPeerConnectionsExchangeMediaOnlyThroughOurTurn()
    {
        int port = Tools.FreeUdpPort();
        int min = 30000 + Random.Shared.Next(100) * 200;
        using var engine = new EngineProcess($"""
            [TURN]
            listening-port={port}
            listening-ip=127.0.0.1
            relay-ip=127.0.0.1
            min-port={min}
            max-port={min + 199}
            no-tls
            use-auth-secret
            static-auth-secret=chromium-secret
            allowed-peer-ip=127.0.0.1
            """);
        await using var page = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/");
        await Tools.PollAsync(async () => (await page.EvaluateAsync("location.protocol + document.readyState")).GetString() ?? "", s => s == "http:complete", TimeSpan.FromSeconds(30), "the page"); // not the first about:blank
        var result = (await page.EvaluateAsync(Script, awaitPromise: true)).GetString();
        Assert.True(result == "ok", result + "\n" + engine.Output);

        var stats = await Tools.PollAsync(async () => JsonDocument.Parse((await page.EvaluateAsync(StatsScript, awaitPromise: true)).GetString()!).RootElement.Clone(),
            s => s.GetProperty("framesDecoded").GetInt32() >= 60 || s.GetProperty("state").GetString() == "failed", TimeSpan.FromSeconds(40), "frames over the relay");
        Assert.True(stats.GetProperty("framesDecoded").GetInt32() >= 60, stats.GetRawText());
        Assert.True(stats.GetProperty("audioPackets").GetInt32() > 0, stats.GetRawText());
        Assert.Equal("relay", stats.GetProperty("localType").GetString());
        Assert.Equal("relay", stats.GetProperty("remoteType").GetString());

        var turn = JsonDocument.Parse(await engine.Http.GetStringAsync("/api/turn")).RootElement;
        Assert.True(turn.GetProperty("allocationsCreated").GetInt64() >= 2, turn.GetRawText());
        Assert.True(turn.GetProperty("toClient").GetProperty("packets").GetInt64() > 100, turn.GetRawText());
    }

    // WHIP from a relay-only peer connection: its only path to our media port is our own TURN server,
    // which lets it reach that port (on loopback, otherwise denied) because it is the engine's own.
    private const string WhipScript = """
        (async () => { try {
          const config = { iceServers: [{ urls: 'TURNURL', username: 'USER', credential: 'PASS' }], iceTransportPolicy: 'relay' };
          const pc = new RTCPeerConnection(config);
          window.pub = pc;
          const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
          media.getTracks().forEach(t => pc.addTransceiver(t, { direction: 'sendonly' }));
          await pc.setLocalDescription(await pc.createOffer());
          // Non-trickle WHIP: wait for the relay candidates to be in the offer.
          await new Promise(r => { if (pc.iceGatheringState === 'complete') r(); else pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 5000); });
          const r = await fetch('/whip/relayed', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
          const body = await r.text();
          if (r.status !== 201) return 'failed ' + r.status + ': ' + body;
          await pc.setRemoteDescription({ type: 'answer', sdp: body });
          return 'ok';
        } catch (e) { return 'failed: ' + e; } })()
        """;

    [Fact]
    public async Task AWhipPublishWhoseOnlyPathIsOurTurnReachesOurMediaPort()
    {
        int port = Tools.FreeUdpPort();
        int min = 30000 + Random.Shared.Next(100) * 200;
        using var engine = new EngineProcess($"""
            [TURN]
            listening-port={port}
            listening-ip=127.0.0.1
            relay-ip=127.0.0.1
            min-port={min}
            max-port={min + 199}
            no-tls
            lt-cred-mech
            user=pub:pub-pass
            """);
        // No allowed-peer-ip: loopback is denied, and only the engine's own media port is let through.
        await using var page = new ChromiumPage($"http://127.0.0.1:{engine.HttpPort}/");
        await Tools.PollAsync(async () => (await page.EvaluateAsync("location.protocol + document.readyState")).GetString() ?? "", s => s == "http:complete", TimeSpan.FromSeconds(30), "the page"); // not the first about:blank
        var script = WhipScript.Replace("TURNURL", $"turn:127.0.0.1:{port}?transport=udp").Replace("USER", "pub").Replace("PASS", "pub-pass");
        var result = (await page.EvaluateAsync(script, awaitPromise: true)).GetString();
        Assert.True(result == "ok", result + "\n" + engine.Output);

        var session = await Tools.PollAsync(async () => (await engine.StreamsAsync()).GetProperty("streams").EnumerateArray().FirstOrDefault(),
            s => s.ValueKind == JsonValueKind.Object && s.GetProperty("state").GetString() == "media"
                 && s.GetProperty("tracks").EnumerateArray().Any(t => t.GetProperty("kind").GetString() == "video" && t.GetProperty("frames").GetInt64() >= 30),
            TimeSpan.FromSeconds(40), "relayed media at the engine");
        // The engine saw the publisher at a relayed address of ours.
        var remote = System.Net.IPEndPoint.Parse(session.GetProperty("remote").GetString()!);
        Assert.InRange(remote.Port, min, min + 199);
        var turn = JsonDocument.Parse(await engine.Http.GetStringAsync("/api/turn")).RootElement;
        Assert.True(turn.GetProperty("toPeer").GetProperty("packets").GetInt64() > 100, turn.GetRawText());
    }
}
