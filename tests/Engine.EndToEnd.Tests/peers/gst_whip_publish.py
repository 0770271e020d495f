#!/usr/bin/python3
"""Publishes GStreamer's webrtcbin to a WHIP endpoint (RFC 9725): H.264 from x264enc and Opus, on loopback.

gst_whip_publish.py WHIP_URL SECONDS

webrtcbin keeps its defaults where the test is about them: its own RSA-2048 certificate, its own
RTCP sender reports. Prints one JSON line with what it sent; exits 0 after the DELETE, non-zero with
a message on the first failure. Every wait is bounded.
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def fail(message):
    print("gst_whip_publish: " + message, file=sys.stderr, flush=True)
    sys.exit(1)


try:
    import gi

    for ns, package in (("Gst", "gir1.2-gstreamer-1.0"), ("GstVideo", "gir1.2-gst-plugins-base-1.0"),
                        ("GstSdp", "gir1.2-gst-plugins-base-1.0"), ("GstWebRTC", "gir1.2-gst-plugins-bad-1.0")):
        try:
            gi.require_version(ns, "1.0")
        except ValueError:
            fail(f"the {ns} 1.0 typelib is missing: install {package} (tests/run.sh does)")
    from gi.repository import GLib, Gst, GstSdp, GstVideo, GstWebRTC  # noqa: E402
except ImportError as e:
    fail(f"{e}: install python3-gi (tests/run.sh does)")

CONNECT_TIMEOUT_S = 20
HTTP_TIMEOUT_S = 10

PIPELINE = """
webrtcbin name=wb bundle-policy=max-bundle
videotestsrc is-live=true pattern=ball
  ! video/x-raw,width=640,height=480,framerate=30/1
  ! videoconvert ! queue
  ! x264enc name=venc tune=zerolatency speed-preset=ultrafast bitrate=1000 key-int-max=60
  ! video/x-h264,profile=constrained-baseline,stream-format=byte-stream
  ! h264parse ! rtph264pay name=vpay config-interval=-1 aggregate-mode=zero-latency pt=96
  ! application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000 ! wb.
audiotestsrc is-live=true wave=sine freq=440
  ! audioconvert ! audioresample ! queue
  ! opusenc name=aenc ! rtpopuspay name=apay pt=111
  ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! wb.
"""


class Publisher:
    def __init__(self, url, seconds):
        self.url = url
        self.seconds = seconds
        self.loop = GLib.MainLoop()
        self.error = None
        self.location = None
        self.connected_at = None
        self.stopped_at = None
        # Encoded video frames and Opus packets that left the encoders after the peer connected.
        self.video_frames = 0
        self.audio_packets = 0
        self.pipe = Gst.parse_launch(PIPELINE)
        self.wb = self.pipe.get_by_name("wb")
        # GStreamer 1.22's ice-agent getter hands out webrtcbin's own reference: keep the wrapper
        # alive as long as webrtcbin, or its release frees the agent under it.
        self.ice = self.wb.get_property("ice-agent")
        self.ice.props.ice_tcp = False
        # libnice leaves loopback out of its host candidates unless told.
        self.ice.emit("add-local-ip-address", "127.0.0.1")
        self.wb.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.wb.connect("notify::connection-state", self.on_connection_state)
        self.wb.connect("notify::ice-gathering-state", self.on_gathering_state)
        self.offer_sent = False
        self.offer_asked = False
        self.reply = None
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_bus_error)
        # webrtcbin holds its inputs until negotiated: the queues would fill with a second of media
        # that then goes out in a burst with old timestamps. RTP before the connection is dropped
        # instead (caps still reach webrtcbin, which needs them for the offer).
        for pay in ("vpay", "apay"):
            self.pipe.get_by_name(pay).get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self.until_connected)
        self.pipe.get_by_name("venc").get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self.count_video)
        self.pipe.get_by_name("aenc").get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self.count_audio)

    def until_connected(self, pad, info):
        return Gst.PadProbeReturn.DROP if self.connected_at is None else Gst.PadProbeReturn.OK

    def count_video(self, pad, info):
        if self.connected_at is not None and self.stopped_at is None:
            self.video_frames += 1
        return Gst.PadProbeReturn.OK

    def count_audio(self, pad, info):
        if self.connected_at is not None and self.stopped_at is None:
            self.audio_packets += 1
        return Gst.PadProbeReturn.OK

    def abort(self, message):
        if self.error is None:
            self.error = message
        self.loop.quit()

    def on_bus_error(self, bus, message):
        err, debug = message.parse_error()
        self.abort(f"pipeline error: {err.message} ({debug})")

    def on_negotiation_needed(self, wb):
        if self.offer_asked:
            return
        self.offer_asked = True
        for pad in wb.sinkpads:
            pad.props.transceiver.props.direction = GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        wb.emit("create-offer", None, promise)

    def on_offer_created(self, promise, _):
        if promise.wait() != Gst.PromiseResult.REPLIED:
            return self.abort("create-offer did not reply")
        # The offer lives in the reply, which lives in the promise: hold both until it is applied.
        self.promise = promise
        reply = self.reply = promise.get_reply()
        if reply.has_field("error"):
            return self.abort("create-offer failed: " + str(reply.get_value("error")))
        offer = reply.get_value("offer")
        if offer is None or offer.sdp is None:
            return self.abort("create-offer gave no offer: " + reply.to_string())
        self.wb.emit("set-local-description", offer, None)

    def on_gathering_state(self, wb, _):
        # Non-trickle WHIP: the offer goes out with every candidate in it.
        if wb.props.ice_gathering_state == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not self.offer_sent:
            self.offer_sent = True
            GLib.idle_add(self.post_offer)

    def post_offer(self):
        sdp = self.wb.props.local_description.sdp.as_text()
        req = urllib.request.Request(self.url, data=sdp.encode(), method="POST", headers={"Content-Type": "application/sdp"})
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as resp:
                if resp.status != 201:
                    return self.abort(f"WHIP POST answered {resp.status}, not 201")
                self.location = urllib.parse.urljoin(self.url, resp.headers["Location"])
                answer_text = resp.read().decode()
        except urllib.error.HTTPError as e:
            return self.abort(f"WHIP POST answered {e.code}: {e.read().decode(errors='replace')}")
        except OSError as e:
            return self.abort(f"WHIP POST failed: {e}")
        res, msg = GstSdp.SDPMessage.new_from_text(answer_text)
        if res != GstSdp.SDPResult.OK:
            return self.abort("the answer does not parse as SDP:\n" + answer_text)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        self.wb.emit("set-remote-description", answer, None)
        return False

    def on_connection_state(self, wb, _):
        state = wb.props.connection_state
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED and self.connected_at is None:
            self.connected_at = time.monotonic()
            # Start on a keyframe instead of waiting out the GOP.
            pad = self.pipe.get_by_name("venc").get_static_pad("src")
            pad.send_event(GstVideo.video_event_new_upstream_force_key_unit(Gst.CLOCK_TIME_NONE, True, 0))
            GLib.timeout_add(int(self.seconds * 1000), self.stop)
        elif state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            self.abort("connection failed (ICE or DTLS)")

    def stop(self):
        self.stopped_at = time.monotonic()
        self.loop.quit()
        return False

    def connect_timeout(self):
        if self.connected_at is None:
            self.abort(f"not connected after {CONNECT_TIMEOUT_S} s (ICE {self.wb.props.ice_connection_state.value_nick}, "
                       f"connection {self.wb.props.connection_state.value_nick}, answer {'applied' if self.location else 'not received'})")
        return False

    def run(self):
        if self.pipe.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            fail("the pipeline did not start")
        GLib.timeout_add_seconds(CONNECT_TIMEOUT_S, self.connect_timeout)
        self.loop.run()
        self.pipe.set_state(Gst.State.NULL)
        if self.location is not None:
            try:
                req = urllib.request.Request(self.location, method="DELETE")
                with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as resp:
                    if resp.status // 100 != 2 and self.error is None:
                        self.error = f"WHIP DELETE answered {resp.status}"
            except (urllib.error.HTTPError, OSError) as e:
                if self.error is None:
                    self.error = f"WHIP DELETE failed: {e}"
        if self.error is not None:
            fail(self.error)
        print(json.dumps({
            "seconds": round(self.stopped_at - self.connected_at, 3),
            "videoFrames": self.video_frames,
            "audioPackets": self.audio_packets,
            "location": self.location,
        }), flush=True)


def main():
    if len(sys.argv) != 3:
        fail("usage: gst_whip_publish.py WHIP_URL SECONDS")
    Gst.init(None)
    missing = [e for e in ("webrtcbin", "nicesrc", "dtlssrtpenc", "x264enc", "opusenc", "rtph264pay", "rtpopuspay",
                           "h264parse", "videotestsrc", "audiotestsrc")
               if Gst.ElementFactory.find(e) is None]
    if missing:
        fail("GStreamer elements missing: " + ", ".join(missing) + " (tests/run.sh installs the packages)")
    Publisher(sys.argv[1], float(sys.argv[2])).run()


if __name__ == "__main__":
    main()
