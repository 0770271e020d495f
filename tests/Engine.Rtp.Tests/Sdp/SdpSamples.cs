namespace Engine.Rtp.Tests.Sdp;

/// <summary>Hand-written SDP covering what the Chromium fixtures do not carry (candidates, rtx
/// with ssrc-group FID, rid/simulcast, data channel, ice-lite, b= lines). Written for these
/// tests from the RFC grammars, in the shape browsers send; not a capture.</summary>
internal static class SdpSamples
{
    public const string Full =
        "v=0\r\n" +
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n" +
        "s=-\r\n" +
        "i=test session\r\n" +
        "b=AS:2000\r\n" +
        "t=0 0\r\n" +
        "a=group:BUNDLE a v d\r\n" +
        "a=group:LS a v\r\n" +
        "a=extmap-allow-mixed\r\n" +
        "a=msid-semantic: WMS stream1\r\n" +
        "a=ice-lite\r\n" +
        "a=x-session-unknown:keep me\r\n" +
        "a=x-session-flag\r\n" +
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n" +
        "c=IN IP4 0.0.0.0\r\n" +
        "b=TIAS:64000\r\n" +
        "a=rtcp:9 IN IP4 0.0.0.0\r\n" +
        "a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 ufrag EsAw network-id 1 network-cost 10\r\n" +
        "a=candidate:435653019 1 tcp 1845501695 192.168.0.196 9 typ host tcptype active generation 0\r\n" +
        "a=candidate:842163049 1 udp 1677729535 203.0.113.7 46243 typ srflx raddr 192.168.0.196 rport 46243 generation 0 x-future 7\r\n" +
        "a=end-of-candidates\r\n" +
        "a=ice-ufrag:EsAw\r\n" +
        "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n" +
        "a=ice-options:trickle renomination\r\n" +
        "a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n" +
        "a=setup:passive\r\n" +
        "a=mid:a\r\n" +
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level vad=on\r\n" +
        "a=extmap:2/recvonly http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n" +
        "a=sendonly\r\n" +
        "a=msid:stream1 audiotrack\r\n" +
        "a=rtcp-mux\r\n" +
        "a=x-first-unknown:1\r\n" +
        "a=x-second-unknown\r\n" +
        "a=x-third-unknown:3 with spaces\r\n" +
        "a=rtpmap:111 opus/48000/2\r\n" +
        "a=rtcp-fb:111 transport-cc\r\n" +
        "a=fmtp:111 minptime=10;useinbandfec=1\r\n" +
        "a=ssrc:1001 cname:abcd\r\n" +
        "a=ssrc:1001 msid:stream1 audiotrack\r\n" +
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99\r\n" +
        "c=IN IP4 0.0.0.0\r\n" +
        "a=rtcp:9 IN IP4 0.0.0.0\r\n" +
        "a=ice-ufrag:EsAw\r\n" +
        "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n" +
        "a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\n" +
        "a=setup:active\r\n" +
        "a=mid:v\r\n" +
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
        "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n" +
        "a=recvonly\r\n" +
        "a=msid:- videotrack\r\n" +
        "a=rtcp-mux\r\n" +
        "a=rtcp-rsize\r\n" +
        "a=rtcp-fb:* nack\r\n" +
        "a=rtpmap:96 VP8/90000\r\n" +
        "a=rtcp-fb:96 goog-remb\r\n" +
        "a=rtcp-fb:96 nack pli\r\n" +
        "a=rtpmap:97 rtx/90000\r\n" +
        "a=fmtp:97 apt=96\r\n" +
        "a=rtpmap:98 H264/90000\r\n" +
        "a=fmtp:98 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f\r\n" +
        "a=rtpmap:99 rtx/90000\r\n" +
        "a=fmtp:99 apt=98\r\n" +
        "a=rid:hi send pt=96,98;max-width=1280;max-height=720\r\n" +
        "a=rid:lo send max-width=320\r\n" +
        "a=simulcast:send hi;~lo,mid recv r0\r\n" +
        "a=ssrc-group:FID 2001 2002\r\n" +
        "a=ssrc-group:SIM 2001 2003\r\n" +
        "a=ssrc:2001 cname:abcd\r\n" +
        "a=ssrc:2002 cname:abcd\r\n" +
        "a=ssrc:2003 cname:abcd\r\n" +
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
        "c=IN IP4 0.0.0.0\r\n" +
        "a=ice-ufrag:EsAw\r\n" +
        "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n" +
        "a=setup:actpass\r\n" +
        "a=mid:d\r\n" +
        "a=sctp-port:5000\r\n" +
        "a=max-message-size:262144\r\n";
}
