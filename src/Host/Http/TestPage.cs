namespace Engine.Host.Http;

/// <summary>
/// The page at <c>GET /</c>: publish camera/microphone over WHIP or the legacy WebSocket route, play
/// a stream published here over WHEP or the WebSocket route (<c>imRTC/sendSdpPull</c>) with the
/// player's live counters, and watch /api/streams. No build step, no downloads. Query parameters
/// drive it from tests: <c>?stream=NAME&amp;via=whip|ws&amp;autostart=1&amp;loopback=1&amp;video=h264|vp8&amp;h264profile=4d001f</c>
/// to publish; <c>?stream=NAME&amp;play=whep|ws&amp;autostart=1</c> to play (<c>window.playStats</c>, and
/// <c>&amp;report=URL</c> POSTs them there every second for a browser tests cannot script).
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
 #state, #playState { font-weight: bold; }
 #playCounters td { padding-right: 1.5em; }
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
<h2>Play</h2>
<fieldset>
 <label>stream <input id="playStream" value="test"></label>
 <button id="playWhep">Play (WHEP)</button>
 <button id="playWs">Play (WebSocket)</button>
 <button id="playStop" disabled>Stop playing</button>
</fieldset>
<p>player: <span id="playState">idle</span></p>
<video id="player" autoplay playsinline controls></video>
<table id="playCounters"><tr><td>frames decoded <b id="pcFrames">0</b></td><td>fps <b id="pcFps">0</b></td><td>size <b id="pcSize">-</b></td>
 <td>NACKs sent <b id="pcNacks">0</b></td><td>bytes <b id="pcBytes">0</b></td><td>first frame <b id="pcFirst">-</b></td></tr></table>
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
// --- Play: recvonly audio+video, the offer to /whep/{stream} or imRTC/sendSdpPull, the counters below the video. ---
let ppc = null, pws = null, whepLocation = null, answerAt = 0, lastFrames = 0, lastAt = 0, energy = 0;
if (q.get("stream")) $("playStream").value = q.get("stream");
window.playStats = { state: "idle" };
function setPlayState(s) { $("playState").textContent = s; window.playStats.state = s; if (q.get("play")) document.title = "engine play: " + s; }
// From the answer to the first frame: decoded (getStats framesDecoded, polled every 50 ms) and
// presented (requestVideoFrameCallback, where the browser has it); firstFrameMs is the earlier.
function firstFrame(how) {
  const s = window.playStats, key = how === "getStats" ? "firstDecodedMs" : "firstPresentedMs";
  if (!answerAt || s[key] !== undefined) return;
  s[key] = Math.round(performance.now() - answerAt);
  if (s.firstFrameMs === undefined) { s.firstFrameMs = s[key]; s.firstFrameBy = how; }
  $("pcFirst").textContent = s.firstFrameMs + " ms";
}
async function makePlayer() {
  ppc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  ppc.addTransceiver("video", { direction: "recvonly" });
  ppc.addTransceiver("audio", { direction: "recvonly" });
  ppc.onconnectionstatechange = () => setPlayState(ppc.connectionState);
  const media = new MediaStream(), el = $("player");
  el.srcObject = media;
  ppc.ontrack = e => {
    media.addTrack(e.track);
    el.play().catch(() => {});
    if (e.track.kind === "audio") listen(e.track);
  };
  // The first frame shown, where the browser tells (requestVideoFrameCallback); stats polling (below) otherwise.
  if (el.requestVideoFrameCallback) el.requestVideoFrameCallback(() => firstFrame("requestVideoFrameCallback"));
  await ppc.setLocalDescription(await ppc.createOffer());
  return ppc.localDescription.sdp; // ICE-lite server: it learns our address from the checks, no candidates needed
}
// Audio energy by Web Audio as well, for browsers whose inbound-rtp has no totalAudioEnergy.
function listen(track) {
  try {
    const ctx = new AudioContext(), analyser = ctx.createAnalyser(), data = new Float32Array(analyser.fftSize);
    ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    ctx.resume().catch(() => {});
    setInterval(() => { analyser.getFloatTimeDomainData(data); let sum = 0; for (const v of data) sum += v * v; energy += sum / data.length; }, 100);
  } catch (e) {}
}
async function playWhep() {
  setPlayState("offering");
  const offer = await makePlayer();
  const url = new URL("/whep/" + encodeURIComponent($("playStream").value), location.href);
  const t0 = performance.now();
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/sdp" }, body: offer });
  const body = await r.text();
  answerAt = performance.now();
  window.playStats.answerMs = Math.round(answerAt - t0);
  if (r.status !== 201) { setPlayState("failed: " + r.status + " " + body.trim()); return; }
  whepLocation = new URL(r.headers.get("Location"), url).href;
  window.playStats.location = whepLocation;
  await ppc.setRemoteDescription({ type: "answer", sdp: body });
}
async function playWs() {
  setPlayState("offering");
  const offer = await makePlayer();
  pws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  let t0 = 0;
  pws.onmessage = async ev => {
    const m = JSON.parse(ev.data);
    if (m.route === "imRTC/sendSdpAnswerNotice") {
      answerAt = performance.now();
      window.playStats.answerMs = Math.round(answerAt - t0);
      await ppc.setRemoteDescription({ type: "answer", sdp: m.req_data.sdp });
    } else if (m.route === "imRTC/sendErrorNotice") {
      window.playStats.errorNotice = { errno: m.errno, errmsg: m.errmsg, reason: m.req_data && m.req_data.reason };
      setPlayState("ended: errno " + m.errno + " " + m.errmsg);
    } else if (m.errno) setPlayState("failed: errno " + m.errno + " " + m.errmsg);
  };
  pws.onclose = () => { window.playStats.socketClosed = true; };
  pws.onopen = () => { t0 = performance.now(); pws.send(JSON.stringify({ id: 1, route: "imRTC/sendSdpPull", req_data: { stream: $("playStream").value, sdp: offer } })); };
}
async function stopPlaying() {
  if (whepLocation) await fetch(whepLocation, { method: "DELETE" }).catch(() => {});
  if (pws) pws.close();
  if (ppc) ppc.close();
  ppc = pws = whepLocation = null;
  setPlayState("stopped");
}
function startPlaying(fn) {
  window.playStats = { state: "idle" }; answerAt = lastAt = lastFrames = energy = 0;
  $("playStop").disabled = false; $("playWhep").disabled = $("playWs").disabled = true;
  fn().catch(e => setPlayState("failed: " + e));
}
$("playWhep").onclick = () => startPlaying(playWhep);
$("playWs").onclick = () => startPlaying(playWs);
$("playStop").onclick = stopPlaying;
async function pollPlayer() {
  if (!ppc) return;
  const s = window.playStats;
  (await ppc.getStats()).forEach(r => {
    if (r.type !== "inbound-rtp") return;
    if (r.kind === "video") Object.assign(s, { framesDecoded: r.framesDecoded || 0, width: r.frameWidth || $("player").videoWidth || 0, height: r.frameHeight || $("player").videoHeight || 0,
      videoPackets: r.packetsReceived || 0, videoBytes: r.bytesReceived || 0, videoLost: r.packetsLost || 0, nackCount: r.nackCount || 0, pliCount: r.pliCount || 0 });
    if (r.kind === "audio") Object.assign(s, { audioPackets: r.packetsReceived || 0, audioBytes: r.bytesReceived || 0, audioEnergy: r.totalAudioEnergy || 0 });
  });
  s.analyserEnergy = energy;
  s.at = Date.now();
  if (s.framesDecoded > 0) firstFrame("getStats");
  const now = performance.now();
  if (lastAt) s.fps = Math.round((s.framesDecoded - lastFrames) * 10000 / (now - lastAt)) / 10;
  if (now - lastAt >= 1000) { lastAt = now; lastFrames = s.framesDecoded || 0; }
  $("pcFrames").textContent = s.framesDecoded || 0; $("pcFps").textContent = s.fps || 0; $("pcNacks").textContent = s.nackCount || 0;
  $("pcBytes").textContent = (s.videoBytes || 0) + (s.audioBytes || 0); $("pcSize").textContent = (s.width || 0) + "x" + (s.height || 0);
}
// Every 50 ms until the first frame (so its time is seen within that), then every 500 ms.
(function loop() { pollPlayer().catch(() => {}).finally(() => setTimeout(loop, window.playStats.firstDecodedMs === undefined ? 50 : 500)); })();
// Tests of a browser without a scripting protocol (Firefox): the counters go to the test's own listener.
if (q.get("report")) setInterval(() => fetch(q.get("report"), { method: "POST", mode: "no-cors", body: JSON.stringify(window.playStats) }).catch(() => {}), 1000);
if (q.get("autostart") === "1" && q.get("play")) startPlaying(q.get("play") === "ws" ? playWs : playWhep);
else if (q.get("autostart") === "1") start(q.get("via") === "ws" ? publishWs : publishWhip);
</script>
</body>
</html>
""";
}
