// pionwhip publishes an H.264 Annex-B file and an Ogg/Opus file to a WHIP endpoint (RFC 9725) with
// Pion, paced at real time, on loopback.
//
//	pionwhip -url WHIP_URL -h264 FILE -ogg FILE -seconds N
//
// Prints one JSON line with what it sent; exits 0 after the DELETE, 1 with a message on the first
// failure. Every wait is bounded.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v3"
	"github.com/pion/webrtc/v3/pkg/media"
	"github.com/pion/webrtc/v3/pkg/media/h264reader"
	"github.com/pion/webrtc/v3/pkg/media/oggreader"
)

const (
	frameDuration = time.Second / 30
	opusDuration  = 20 * time.Millisecond
	opusSamples   = 960 // 20 ms at 48 kHz, the Ogg granule rate (RFC 7845 §4)
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "pionwhip: "+format+"\n", args...)
	os.Exit(1)
}

// accessUnits groups the file's NAL units into frames: parameter sets ride with the slice after them.
// x264 writes one slice per frame, so each VCL NAL unit ends a frame.
func accessUnits(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		return nil, err
	}
	var frames [][]byte
	var pending []byte
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		pending = append(pending, 0, 0, 0, 1)
		pending = append(pending, nal.Data...)
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr {
			frames = append(frames, pending)
			pending = nil
		}
	}
	return frames, nil
}

// opusPackets reads an Ogg/Opus file written with one packet per page (ffmpeg -page_duration 20000):
// oggreader gives a page's payload whole, so a page of two packets would be sent as one bad packet.
func opusPackets(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, head, err := oggreader.NewWith(f)
	if err != nil {
		return nil, err
	}
	if head.SampleRate == 0 {
		return nil, errors.New("no OpusHead")
	}
	var packets [][]byte
	var lastGranule uint64
	for {
		payload, page, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(payload, []byte("OpusTags")) {
			continue
		}
		delta := page.GranulePosition - lastGranule
		if lastGranule == 0 {
			delta = opusSamples // the first page's granule includes the pre-skip
		}
		lastGranule = page.GranulePosition
		if delta != opusSamples && len(packets) > 0 {
			// The last page may be short; anything else means pages of several packets.
			if _, _, err := r.ParseNextPage(); err == nil {
				return nil, fmt.Errorf("page %d covers %d samples, not one 20 ms packet", len(packets), delta)
			}
		}
		packets = append(packets, payload)
	}
	return packets, nil
}

func whipPost(endpoint, offer string) (answer, location string, err error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(endpoint, "application/sdp", strings.NewReader(offer))
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("WHIP POST answered %d: %s", resp.StatusCode, body)
	}
	base, _ := url.Parse(endpoint)
	loc, err := base.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", "", fmt.Errorf("bad Location %q: %v", resp.Header.Get("Location"), err)
	}
	return string(body), loc.String(), nil
}

func whipDelete(location string) error {
	req, err := http.NewRequest(http.MethodDelete, location, nil)
	if err != nil {
		return err
	}
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("WHIP DELETE answered %d", resp.StatusCode)
	}
	return nil
}

// drainRTCP reads a sender's RTCP so the interceptors (NACK responder, reports) see it.
func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

// pace sends items[i] at start + i*step until `seconds` of media have gone; returns how many it sent.
func pace(track *webrtc.TrackLocalStaticSample, items [][]byte, step time.Duration, start time.Time, seconds time.Duration) (int, error) {
	n := int(seconds / step)
	if n > len(items) {
		return 0, fmt.Errorf("only %d samples for %v", len(items), seconds)
	}
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * step)))
		if err := track.WriteSample(media.Sample{Data: items[i], Duration: step}); err != nil {
			return i, err
		}
	}
	return n, nil
}

func main() {
	endpoint := flag.String("url", "", "WHIP endpoint")
	h264Path := flag.String("h264", "", "H.264 Annex-B file, 30 fps")
	oggPath := flag.String("ogg", "", "Ogg/Opus file, one 20 ms packet per page")
	seconds := flag.Float64("seconds", 10, "how long to send")
	flag.Parse()
	if *endpoint == "" || *h264Path == "" || *oggPath == "" {
		fail("usage: pionwhip -url WHIP_URL -h264 FILE -ogg FILE -seconds N")
	}
	sendFor := time.Duration(*seconds * float64(time.Second))

	frames, err := accessUnits(*h264Path)
	if err != nil {
		fail("reading %s: %v", *h264Path, err)
	}
	packets, err := opusPackets(*oggPath)
	if err != nil {
		fail("reading %s: %v", *oggPath, err)
	}

	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		fail("codecs: %v", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		fail("interceptors: %v", err)
	}
	se := webrtc.SettingEngine{}
	// Loopback only: Pion leaves it out unless told.
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		fail("peer connection: %v", err)
	}
	defer pc.Close()

	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, "video", "pion")
	if err != nil {
		fail("video track: %v", err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pion")
	if err != nil {
		fail("audio track: %v", err)
	}
	for _, t := range []webrtc.TrackLocal{video, audio} {
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			fail("transceiver: %v", err)
		}
		go drainRTCP(tr.Sender())
	}

	connected := make(chan struct{})
	failed := make(chan webrtc.PeerConnectionState, 1)
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			select {
			case failed <- s:
			default:
			}
		}
	})

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		fail("create offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		fail("set local description: %v", err)
	}
	select {
	case <-gathered: // non-trickle WHIP: the offer goes out with its candidates
	case <-time.After(10 * time.Second):
		fail("ICE gathering did not complete in 10 s")
	}
	answer, location, err := whipPost(*endpoint, pc.LocalDescription().SDP)
	if err != nil {
		fail("%v", err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		whipDelete(location)
		fail("set remote description: %v\n%s", err, answer)
	}
	select {
	case <-connected:
	case s := <-failed:
		whipDelete(location)
		fail("connection %s before it connected (ICE or DTLS)", s)
	case <-time.After(20 * time.Second):
		whipDelete(location)
		fail("not connected after 20 s (ICE %s, connection %s)", pc.ICEConnectionState(), pc.ConnectionState())
	}

	start := time.Now().Add(10 * time.Millisecond)
	var wg sync.WaitGroup
	var videoSent, audioSent int
	var videoErr, audioErr error
	wg.Add(2)
	go func() { defer wg.Done(); videoSent, videoErr = pace(video, frames, frameDuration, start, sendFor) }()
	go func() { defer wg.Done(); audioSent, audioErr = pace(audio, packets, opusDuration, start, sendFor) }()
	wg.Wait()
	sent := time.Since(start)
	if videoErr != nil || audioErr != nil {
		whipDelete(location)
		fail("sending: video %v, audio %v", videoErr, audioErr)
	}
	select {
	case s := <-failed:
		whipDelete(location)
		fail("connection %s while sending", s)
	default:
	}
	time.Sleep(200 * time.Millisecond) // the last packets reach the engine before the session ends
	if err := whipDelete(location); err != nil {
		fail("%v", err)
	}
	out, _ := json.Marshal(map[string]interface{}{
		"seconds":      (time.Duration(videoSent) * frameDuration).Seconds(), // media time sent
		"wallSeconds":  sent.Seconds(),
		"videoFrames":  videoSent,
		"audioPackets": audioSent,
		"location":     location,
	})
	fmt.Println(string(out))
}
