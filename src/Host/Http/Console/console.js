// The engine's console (served from memory by HttpFrontend.Console.cs; no build step, no downloads).
// Publish camera/microphone over WHIP or the legacy WebSocket route, play a stream over WHEP or the
// WebSocket route (imRTC/sendSdpPull) with the player's counters, join a client-side room, and watch
// every session's charts from /api/streams (polled every second, 5 minutes kept here) with a kick button.
// Query parameters drive it from tests: ?stream=NAME&via=whip|ws&autostart=1&loopback=1&video=h264|vp8&h264profile=4d001f
// to publish; ?stream=NAME&play=whep|ws&autostart=1 to play (window.playStats, and &report=URL POSTs
// them there every second for a browser tests cannot script); ?tab=publish|play|room.
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

// --- Tabs: every tab's elements stay in the page (tests drive hidden ones too); only one is shown. ---
function showTab(name) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== "tab-" + name;
}
for (const b of document.querySelectorAll("#tabs button")) b.onclick = () => showTab(b.dataset.tab);
showTab(q.get("tab") || (q.get("play") ? "play" : "publish"));

// --- Charts: a canvas per figure, newest at the right, gaps where a figure is missing; the time axis
// spans the samples kept (at least a minute, at most HISTORY seconds). ---
const HISTORY = 300, MIN_SPAN = 60;
class Chart {
  constructor(parent, label, format, color) {
    this.values = []; this.format = format; this.color = color;
    const box = document.createElement("div");
    box.className = "chart";
    box.innerHTML = '<div class="label"><span></span><b>-</b></div><canvas></canvas>';
    box.querySelector("span").textContent = label;
    this.valueEl = box.querySelector("b");
    this.canvas = box.querySelector("canvas");
    parent.appendChild(box);
  }
  push(v) {
    this.values.push(v);
    if (this.values.length > HISTORY) this.values.shift();
    this.valueEl.textContent = v == null ? "-" : this.format(v);
    this.draw();
  }
  draw() {
    const c = this.canvas, dpr = window.devicePixelRatio || 1, w = c.clientWidth || 180, h = c.clientHeight || 44;
    if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    let max = 0, points = 0;
    for (const v of this.values) if (v != null) { points++; if (v > max) max = v; }
    max = niceCeiling(max);
    g.strokeStyle = "#dde1e6"; g.lineWidth = 1;
    g.beginPath(); g.moveTo(0, Math.round(h / 2) + .5); g.lineTo(w, Math.round(h / 2) + .5); g.stroke();
    g.fillStyle = "#8a939f"; g.font = "9px system-ui, sans-serif"; g.fillText(this.format(max), 3, 10);
    const span = Math.min(HISTORY, Math.max(MIN_SPAN, this.values.length));
    g.textAlign = "right"; g.fillText(span >= 120 ? Math.round(span / 60) + " min" : span + " s", w - 3, 10); g.textAlign = "left";
    const step = w / (span - 1), x0 = w - (this.values.length - 1) * step, y = v => h - 2 - (v / max) * (h - 14);
    let run = [];
    const flush = () => {
      if (run.length === 0) return;
      g.beginPath(); g.moveTo(run[0][0], h);
      for (const [px, py] of run) g.lineTo(px, py);
      g.lineTo(run[run.length - 1][0], h); g.closePath();
      g.fillStyle = this.color + "30"; g.fill();
      g.beginPath(); g.moveTo(run[0][0] - (run.length === 1 ? 1 : 0), run[0][1]);
      for (const [px, py] of run) g.lineTo(px, py);
      g.strokeStyle = this.color; g.lineWidth = 1.5; g.stroke();
      run = [];
    };
    this.values.forEach((v, i) => { if (v == null) flush(); else run.push([x0 + i * step, y(v)]); });
    flush();
    c.dataset.points = points; // for tests: how many samples the chart drew
  }
}
// 1, 2 or 5 times a power of ten, at or above v.
function niceCeiling(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
const fmt = {
  bps: v => v >= 1e6 ? (v / 1e6).toFixed(2) + " Mbit/s" : Math.round(v / 1e3) + " kbit/s",
  fps: v => v.toFixed(1) + " fps",
  ms: v => v.toFixed(v < 10 ? 1 : 0) + " ms",
  pct: v => v.toFixed(v < 10 ? 1 : 0) + " %",
  perSecond: v => v.toFixed(v < 10 ? 1 : 0) + "/s",
};
const FIGURES = [["bitrate", "bitrate", fmt.bps, "#2f7fd8"], ["fps", "frame rate", fmt.fps, "#2a9d6a"], ["rtt", "RTT", fmt.ms, "#c27c0e"],
  ["loss", "loss", fmt.pct, "#d04a4a"], ["nacks", "NACKs", fmt.perSecond, "#7a5a9c"]];

// --- Sessions: a card per publisher, player and RTMP pull, kept across polls by id. ---
const cards = new Map();
window.consoleStats = { polls: 0, failures: 0 };
function sum(list, f) { let n = 0, any = false; for (const x of list || []) { const v = f(x); if (typeof v === "number") { n += v; any = true; } } return any ? n : null; }
function video(tracks) { return (tracks || []).find(t => t.kind === "video") || {}; }
// Raw counters of one session as /api/streams gives them: totals become rates between two polls.
function publisherRaw(s) {
  const v = video(s.tracks), rtt = (s.tracks || []).map(t => t.rttMs).find(x => typeof x === "number");
  return { bytes: sum(s.tracks, t => t.bytes), packets: sum(s.tracks, t => t.packets), frames: v.frames, lost: sum(s.tracks, t => t.packetsLost),
    nacks: v.nacksSent, rtt: rtt === undefined ? null : rtt };
}
function playerRaw(p) {
  if (p.source === "rtmp-pull") return { frames: p.videoFramesSent, packets: p.videoFramesSent };
  const v = video(p.tracks), lost = (p.tracks || []).map(t => t.fractionLost).filter(x => typeof x === "number");
  return { bytes: sum(p.tracks, t => t.bytesSent), packets: sum(p.tracks, t => t.packetsSent), frames: v.framesSent, nacks: sum(p.tracks, t => t.nacksReceived),
    rtt: typeof p.rttMs === "number" ? p.rttMs : null, lossPct: lost.length ? Math.max(...lost) * 100 : null };
}
function pullRaw(p) { return { bps: p.bitrateBps, frames: p.videoFrames, packets: p.videoFrames }; }

function card(id, role, parent) {
  let c = cards.get(id);
  if (!c) {
    const el = document.createElement("div");
    el.className = "card " + role;
    el.dataset.id = id;
    el.innerHTML = '<div class="head"><span class="role"></span><span class="name"></span><span class="meta"></span></div><div class="charts"></div>';
    el.querySelector(".role").textContent = role;
    c = { el, role, raws: [], charts: {} };
    const charts = el.querySelector(".charts");
    for (const [key, label, format, color] of FIGURES) c.charts[key] = new Chart(charts, label, format, color);
    if (role !== "pull") {
      const kick = document.createElement("button");
      kick.className = "kick"; kick.textContent = "Kick";
      kick.onclick = () => kickSession(c, kick);
      el.querySelector(".head").appendChild(kick);
    }
    if (role === "publisher" || role === "pull") {
      c.players = document.createElement("div");
      c.players.className = "players";
      el.appendChild(c.players);
    }
    parent.appendChild(el);
    cards.set(id, c);
  }
  c.seen = true;
  return c;
}
// Kicking uses the session's own DELETE route (the engine ends any session by its id).
async function kickSession(c, button) {
  button.disabled = true; button.textContent = "kicking";
  try {
    const r = await fetch("/" + (c.role === "player" ? "whep" : "whip") + "/" + encodeURIComponent(c.stream) + "/" + encodeURIComponent(c.el.dataset.id), { method: "DELETE" });
    button.textContent = r.ok ? "kicked" : "kick failed: " + r.status;
  } catch (e) { button.textContent = "kick failed"; }
}
// Rates over the last RATE_WINDOW polls: the engine's snapshots (every 250 ms) are not taken when we
// poll, so one-second differences jitter by a quarter; three seconds smooth that to a twelfth.
const RATE_WINDOW = 3;
function sample(c, raw, at) {
  const p = c.raws[0], dt = p ? (at - p.at) / 1000 : 0;
  const rate = k => p && dt > .2 && typeof raw[k] === "number" && typeof p.raw[k] === "number" ? Math.max(0, raw[k] - p.raw[k]) / dt : null;
  const bytes = rate("bytes");
  let loss = raw.lossPct ?? null;
  if (loss === null && p && typeof raw.lost === "number" && typeof p.raw.lost === "number") {
    const lost = Math.max(0, raw.lost - p.raw.lost), got = Math.max(0, raw.packets - p.raw.packets);
    loss = lost + got > 0 ? lost * 100 / (lost + got) : 0;
  }
  const f = { bitrate: typeof raw.bps === "number" ? raw.bps : bytes === null ? null : bytes * 8, fps: rate("frames"), rtt: raw.rtt ?? null, loss, nacks: rate("nacks") };
  for (const key in c.charts) c.charts[key].push(f[key] ?? null);
  c.raws.push({ raw, at });
  if (c.raws.length > RATE_WINDOW) c.raws.shift(); // the oldest kept is RATE_WINDOW polls before the next
  c.el.dataset.packets = raw.packets ?? 0;
}
function describe(c, name, parts) {
  c.stream = name;
  c.el.querySelector(".name").textContent = name;
  c.el.querySelector(".meta").textContent = parts.filter(x => x !== undefined && x !== null && x !== "").join(" · ");
}
function render(doc, at) {
  for (const c of cards.values()) c.seen = false;
  const list = $("sessionList"), byId = new Map((doc.playback || []).map(p => [p.id, p]));
  const playerCard = (p, parent) => {
    const c = card(p.id, "player", parent);
    const raw = playerRaw(p);
    describe(c, p.stream, [p.id, p.signaling, p.source, p.state, p.remote, p.uptimeSeconds + " s", (raw.packets ?? 0) + (p.source ? " frames" : " packets"),
      typeof p.targetBps === "number" ? "target " + fmt.bps(p.targetBps) : ""]);
    sample(c, raw, at);
  };
  for (const s of doc.streams || []) {
    const c = card(s.id, "publisher", list), raw = publisherRaw(s), v = video(s.tracks);
    describe(c, s.stream, [s.id, s.signaling, s.state, s.remote, s.uptimeSeconds + " s", (raw.packets ?? 0) + " packets",
      v.codec ? v.codec + " " + v.width + "x" + v.height : "", typeof s.rembBps === "number" ? "REMB " + fmt.bps(s.rembBps) : ""]);
    sample(c, raw, at);
    for (const summary of s.players || []) playerCard(byId.get(summary.id) || summary, c.players);
  }
  for (const pull of doc.pulls || []) {
    const c = card("pull:" + pull.stream, "pull", list);
    describe(c, pull.stream, [pull.sourceUrl, pull.state, pull.error, pull.players + " players"]);
    sample(c, pullRaw(pull), at);
    for (const p of doc.playback || []) if (p.source === "rtmp-pull" && p.stream === pull.stream) playerCard(p, c.players);
  }
  for (const [id, c] of cards) if (!c.seen) { c.el.remove(); cards.delete(id); }
  $("noSessions").hidden = cards.size > 0;
}
let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  try {
    const doc = await (await fetch("/api/streams", { cache: "no-store" })).json(), at = Date.now();
    window.consoleStats.polls++;
    if ($("raw").open) $("stats").textContent = JSON.stringify(doc, null, 2);
    render(doc, at);
    syncRoom(doc);
    $("pollState").textContent = `${doc.sessions} publishers, ${doc.players} players · ${new Date(at).toLocaleTimeString()}`;
  } catch (e) {
    window.consoleStats.failures++;
    $("pollState").textContent = "/api/streams: " + e;
  } finally { polling = false; }
}
setInterval(poll, 1000);
poll();

// --- Room, client-side on top of WHIP/WHEP (server-side rooms come later): room R, user U publishes
// R.U and plays every other live stream named R.*, one video tile each. ---
const room = { name: null, user: null, pub: null, tiles: new Map() };
window.roomStats = {};
function setRoomState(s) { $("roomState").textContent = s; window.roomStats.state = s; }
async function gathered(peer) {
  await new Promise(resolve => {
    if (peer.iceGatheringState === "complete") return resolve();
    peer.addEventListener("icegatheringstatechange", () => peer.iceGatheringState === "complete" && resolve());
    setTimeout(resolve, 3000);
  });
  return filterSdp(peer.localDescription.sdp);
}
async function postOffer(url, sdp) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/sdp" }, body: sdp });
  const body = await r.text();
  if (r.status !== 201) throw new Error(r.status + " " + body.trim());
  return { answer: body, location: new URL(r.headers.get("Location"), new URL(url, location.href)).href };
}
function addTile(stream, label, media, muted) {
  const el = document.createElement("div");
  el.className = "tile"; el.dataset.stream = stream;
  el.innerHTML = '<video autoplay playsinline></video><div class="label"></div>';
  const v = el.querySelector("video");
  v.muted = muted; v.srcObject = media;
  v.play().catch(() => {});
  el.querySelector(".label").textContent = label;
  $("roomTiles").appendChild(el);
  return { el, video: v, label: el.querySelector(".label"), text: label, pc: null, location: null };
}
function closeTile(t) {
  if (t.location) fetch(t.location, { method: "DELETE" }).catch(() => {});
  if (t.pc) t.pc.close();
  t.el.remove();
}
async function joinRoom() {
  const r = $("roomName").value.trim(), u = $("roomUser").value.trim();
  if (!/^[A-Za-z0-9_-]{1,60}$/.test(r) || !/^[A-Za-z0-9_-]{1,60}$/.test(u)) { setRoomState("room and user: 1-60 of A-Z a-z 0-9 _ -"); return; }
  $("roomJoin").disabled = true; $("roomLeave").disabled = false;
  setRoomState("joining " + r + " as " + u);
  const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  const self = room.pub = addTile(r + "." + u, "you: " + r + "." + u, media, true);
  self.media = media;
  room.name = r; room.user = u; // the others' tiles come after our own
  self.pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  self.pc.onconnectionstatechange = () => setRoomState(`in ${r} as ${u}: ${self.pc && self.pc.connectionState}`);
  for (const t of media.getTracks()) self.pc.addTransceiver(t, { direction: "sendonly", streams: [media] });
  await self.pc.setLocalDescription(await self.pc.createOffer());
  const { answer, location: loc } = await postOffer("/whip/" + encodeURIComponent(r + "." + u), await gathered(self.pc));
  self.location = loc;
  await self.pc.setRemoteDescription({ type: "answer", sdp: answer });
}
async function playTile(stream) {
  const media = new MediaStream(), t = addTile(stream, stream.slice(room.name.length + 1), media, false);
  room.tiles.set(stream, t);
  t.pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  t.pc.addTransceiver("video", { direction: "recvonly" });
  t.pc.addTransceiver("audio", { direction: "recvonly" });
  t.pc.ontrack = e => { media.addTrack(e.track); t.video.play().catch(() => {}); };
  await t.pc.setLocalDescription(await t.pc.createOffer());
  const { answer, location: loc } = await postOffer("/whep/" + encodeURIComponent(stream), t.pc.localDescription.sdp);
  t.location = loc;
  await t.pc.setRemoteDescription({ type: "answer", sdp: answer });
}
async function leaveRoom() {
  for (const t of room.tiles.values()) closeTile(t);
  room.tiles.clear();
  if (room.pub) { closeTile(room.pub); room.pub.media.getTracks().forEach(t => t.stop()); }
  room.name = room.user = room.pub = null;
  window.roomStats = {};
  $("roomJoin").disabled = false; $("roomLeave").disabled = true;
  setRoomState("not joined");
}
// After every poll: a tile for each live R.* stream but our own, none for those that left.
function syncRoom(doc) {
  if (!room.name) return;
  const prefix = room.name + ".", own = prefix + room.user, live = new Set();
  for (const s of doc.streams || []) if (s.stream.startsWith(prefix) && s.stream !== own && s.state === "media") live.add(s.stream);
  for (const [stream, t] of room.tiles) if (!live.has(stream)) { closeTile(t); room.tiles.delete(stream); delete window.roomStats[stream]; }
  for (const stream of live) if (!room.tiles.has(stream)) playTile(stream).catch(e => { const t = room.tiles.get(stream); if (t) t.label.textContent = stream + ": " + e.message; });
  for (const [stream, t] of room.tiles) {
    if (!t.pc) continue;
    t.pc.getStats().then(report => report.forEach(r => {
      if (r.type !== "inbound-rtp" || r.kind !== "video") return;
      const last = window.roomStats[stream], frames = r.framesDecoded || 0;
      const fps = last && last.at ? Math.round((frames - last.framesDecoded) * 10000 / (Date.now() - last.at)) / 10 : 0;
      window.roomStats[stream] = { framesDecoded: frames, width: r.frameWidth || 0, height: r.frameHeight || 0, fps, state: t.pc.connectionState, at: Date.now() };
      t.label.textContent = `${t.text} · ${t.pc.connectionState} · ${r.frameWidth || 0}x${r.frameHeight || 0} · ${fps} fps`;
    })).catch(() => {});
  }
}
$("roomJoin").onclick = () => joinRoom().catch(e => setRoomState("failed: " + e.message));
$("roomLeave").onclick = leaveRoom;
if (q.get("room")) $("roomName").value = q.get("room");
if (q.get("user")) $("roomUser").value = q.get("user");

if (q.get("autostart") === "1" && q.get("play")) startPlaying(q.get("play") === "ws" ? playWs : playWhep);
else if (q.get("autostart") === "1" && q.get("room")) $("roomJoin").click();
else if (q.get("autostart") === "1") start(q.get("via") === "ws" ? publishWs : publishWhip);
