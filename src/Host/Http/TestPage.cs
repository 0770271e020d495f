namespace Engine.Host.Http;

/// <summary>
/// The page at <c>GET /</c>: publish camera/microphone over WHIP or the legacy WebSocket route and
/// watch /api/streams. No build step, no downloads. Query parameters drive it from tests:
/// <c>?stream=NAME&amp;via=whip|ws&amp;autostart=1&amp;loopback=1&amp;video=h264|vp8&amp;h264profile=4d001f</c>.
/// </summary>
public static class TestPage
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>engine: idle</title>
<style>
 body { font: 14px system-ui, sans-serif; margin: 2em; max-width: 60em; }
 fieldset { margin-bottom: 1em; } label { margin-right: 1em; }
 video { width: 320px; background: #222; }
 pre { background: #f4f4f4; padding: 1em; overflow: auto; max-height: 30em; }
 #state { font-weight: bold; }
</style>
</head>
<body>
<h1>engine test page</h1>
<fieldset>
 <label>stream <input id="stream" value="test"></label>
 <label><input type="checkbox" id="cam" checked> camera</label>
 <label><input type="checkbox" id="mic" checked> microphone</label>
 <label>video codec <select id="codec"><option value="">browser default</option><option>h264</option><option>vp8</option><option>vp9</option></select></label>
 <button id="whip">Publish (WHIP)</button>
 <button id="ws">Publish (WebSocket)</button>
 <button id="stop" disabled>Stop</button>
</fieldset>
<p>state: <span id="state">idle</span></p>
<video id="preview" autoplay muted playsinline></video>
<h2>/api/streams</h2>
<pre id="stats">–</pre>
<script>
"use strict";
const q = new URLSearchParams(location.search);
const $ = id => document.getElementById(id);
let pc = null, ws = null, whipLocation = null;
if (q.get("stream")) $("stream").value = q.get("stream");
if (q.get("video")) $("codec").value = q.get("video");
if (q.get("audio") === "0") $("mic").checked = false;
if (q.get("camera") === "0") $("cam").checked = false;

function setState(s) { $("state").textContent = s; document.title = "engine: " + s; window.engineState = s; }

// Tests run on loopback only: keep just loopback candidates when asked.
function filterSdp(sdp) {
  // Tests: offer a fingerprint that is not our certificate's, which the server must refuse in DTLS.
  if (q.get("tamperFingerprint") === "1") sdp = sdp.replace(/a=fingerprint:sha-256 ([0-9A-F]{2})/g, (m, b) => "a=fingerprint:sha-256 " + (b === "00" ? "01" : "00"));
  if (q.get("loopback") !== "1") return sdp;
  return sdp.split("\r\n").filter(l => !l.startsWith("a=candidate:") ||
    / (127\.\d+\.\d+\.\d+|::1) \d+ typ /.test(l)).join("\r\n");
}

async function makeOffer() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: $("cam").checked, audio: $("mic").checked });
  $("preview").srcObject = stream;
  pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  pc.onconnectionstatechange = () => setState(pc.connectionState);
  for (const track of stream.getTracks()) {
    const t = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    const codec = $("codec").value;
    if (track.kind === "video" && codec && RTCRtpSender.getCapabilities) {
      const caps = RTCRtpSender.getCapabilities("video").codecs;
      // Only the chosen codec (the server prefers H264 whenever it is offered), plus repair formats.
      // ?h264profile=4d001f: only that H264 profile-level-id (tests of the transcode path).
      const profile = q.get("h264profile");
      const chosen = caps.filter(c => ["video/" + codec, "video/rtx", "video/red", "video/ulpfec"].includes(c.mimeType.toLowerCase())
        && (!profile || c.mimeType.toLowerCase() !== "video/h264" || (c.sdpFmtpLine || "").includes("profile-level-id=" + profile)));
      t.setCodecPreferences(chosen);
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  // ICE-lite server without trickle: send the offer with its candidates.
  await new Promise(resolve => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
    setTimeout(resolve, 3000);
  });
  return filterSdp(pc.localDescription.sdp);
}

async function publishWhip() {
  setState("offering");
  const offer = await makeOffer();
  const r = await fetch("/whip/" + encodeURIComponent($("stream").value), { method: "POST", headers: { "Content-Type": "application/sdp" }, body: offer });
  if (r.status !== 201) { setState("failed: " + r.status + " " + (await r.text()).trim()); return; }
  whipLocation = r.headers.get("Location");
  window.answerSdp = await r.text();
  await pc.setRemoteDescription({ type: "answer", sdp: window.answerSdp });
}

async function publishWs() {
  setState("offering");
  const offer = await makeOffer();
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onmessage = async ev => {
    const m = JSON.parse(ev.data);
    if (m.route === "imRTC/sendSdpAnswerNotice") { window.answerSdp = m.req_data.sdp; await pc.setRemoteDescription({ type: "answer", sdp: m.req_data.sdp }); }
    else if (m.route === "imRTC/sendStartMediaNotice") setState("media flowing");
    else if (m.errno) setState("failed: errno " + m.errno + " " + m.errmsg);
  };
  ws.onclose = () => { if (!String(window.engineState).startsWith("failed")) setState("closed"); };
  ws.onopen = () => ws.send(JSON.stringify({ id: 1, route: "imRTC/sendSdpCall", req_data: { stream: $("stream").value, sdp: offer } }));
}

async function stop() {
  if (whipLocation) await fetch(whipLocation, { method: "DELETE" }).catch(() => {});
  if (ws) ws.close();
  if (pc) pc.close();
  pc = ws = whipLocation = null;
  setState("stopped");
}

function start(fn) {
  $("stop").disabled = false; $("whip").disabled = $("ws").disabled = true;
  fn().catch(e => setState("failed: " + e));
}
$("whip").onclick = () => start(publishWhip);
$("ws").onclick = () => start(publishWs);
$("stop").onclick = stop;
// What the browser says it sent, for tests to compare with /api/streams.
window.engineStats = {};
setInterval(async () => {
  if (!pc) return;
  const s = { at: Date.now() };
  (await pc.getStats()).forEach(r => {
    if (r.type !== "outbound-rtp") return;
    if (r.kind === "video") Object.assign(s, { videoFramesSent: r.framesSent, videoFramesEncoded: r.framesEncoded, videoFps: r.framesPerSecond, width: r.frameWidth, height: r.frameHeight, videoPacketsSent: r.packetsSent, retransmittedPackets: r.retransmittedPacketsSent, nackCount: r.nackCount, pliCount: r.pliCount });
    if (r.kind === "audio") Object.assign(s, { audioPacketsSent: r.packetsSent });
  });
  window.engineStats = s;
}, 500);
setInterval(async () => {
  try { $("stats").textContent = JSON.stringify(await (await fetch("/api/streams")).json(), null, 2); } catch (e) {}
}, 1000);
if (q.get("autostart") === "1") start(q.get("via") === "ws" ? publishWs : publishWhip);
</script>
</body>
</html>
""";
}
