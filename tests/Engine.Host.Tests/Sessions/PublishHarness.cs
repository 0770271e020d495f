using System.Buffers.Binary;
using Engine.Dtls;
using Engine.Host.Peers;
using Engine.Host.Sessions;
using Engine.Host.Tests.Peers;
using Engine.Ice;
using Engine.Rtp.Media;
using Engine.Rtp.Sdp;
using Engine.Srtp;

namespace Engine.Host.Tests.Sessions;

/// <summary>
/// A client <see cref="Peer"/> (ICE controlling, DTLS client unless the offer says setup:passive)
/// publishing to a real <see cref="PublishSession"/> built from a real <see cref="PublishNegotiation"/>
/// answer, joined by a <see cref="MemoryLink"/> on a fake clock (as <see cref="PeerPair"/>).
/// </summary>
internal sealed class PublishHarness : IDisposable
{
    public static readonly NetAddress ClientAddress = PeerPair.ClientAddress;
    public static readonly NetAddress ServerAddress = PeerPair.ServerAddress;
    public const uint VideoSsrc = 0x1111, RtxSsrc = 0x1112, AudioSsrc = 0x2222;
    public const byte VideoPt = 96, RtxPt = 97, AudioPt = 111;

    private readonly DtlsCertificate _clientCert = DtlsCertificate.Generate();
    private readonly DtlsCertificate _serverCert = DtlsCertificate.Generate();
    private readonly byte[] _buffer = new byte[1500];
    private SrtpSession? _injector;

    public PublishHarness(int seed, bool rtx = true, bool weAreDtlsClient = false, bool simulateLoss = false, IEncodedFrameSink? sink = null)
    {
        Link = new MemoryLink(seed);
        Sink = sink ?? new RecordingSink();
        var local = new PublishNegotiation.LocalParameters("srvU", "serverpassword0123456789",
            new SdpFingerprint("sha-256", _serverCert.Fingerprint.Value.ToArray()), "10.0.0.2", 3478, 1);
        Assert.True(SessionDescription.TryParse(Offer(_clientCert.Fingerprint.ToString(), weAreDtlsClient ? "passive" : "actpass", rtx), out var offer, out var error), error.ToString());
        Assert.True(PublishNegotiation.TryAnswer(offer!, local, out var negotiation, out string reason), reason);
        Negotiation = negotiation!;
        Session = new PublishSession("s1", "cam", "test", Negotiation, "srvU", "serverpassword0123456789", _serverCert, Sink,
            new SessionOptions(500_000, AutoBitrate: true, MinVideoBps: 100_000, MaxVideoBps: 2_000_000, simulateLoss, LossSeed: seed), 0);
        Session.OnClosed = (_, why) => ClosedWith = why;
        Client = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            GccPacer = false, // a browser's own sending: what these tests count is what the browser wrote, not our probes
            DtlsRole = weAreDtlsClient ? DtlsRole.Server : null,
            LocalUfrag = "cliU", LocalPwd = "clientpassword0123456789",
            RemoteUfrag = "srvU", RemotePwd = "serverpassword0123456789",
            RemoteCandidate = ServerAddress,
            Certificate = _clientCert, RemoteFingerprint = _serverCert.Fingerprint,
            SendTracks =
            [
                rtx ? new PeerSendTrack { Mid = "0", Ssrc = VideoSsrc, RtxSsrc = RtxSsrc, PayloadType = VideoPt, RtxPayloadType = RtxPt, Codec = MediaCodec.H264 }
                    : new PeerSendTrack { Mid = "0", Ssrc = VideoSsrc, PayloadType = VideoPt, Codec = MediaCodec.H264 },
                new PeerSendTrack { Mid = "1", Ssrc = AudioSsrc, PayloadType = AudioPt, Codec = MediaCodec.Opus, ClockRate = 48_000 },
            ],
            AbsSendTimeExtensionId = 2, TransportCcExtensionId = 3,
            Seed = seed + 1,
        }, 0);
    }

    public MemoryLink Link { get; }
    public Peer Client { get; }
    public PublishSession Session { get; }
    public PublishNegotiation.Result Negotiation { get; }
    public IEncodedFrameSink Sink { get; }
    public RecordingSink Recording => (RecordingSink)Sink;
    public long Now { get; private set; }
    public string? ClosedWith { get; private set; }
    public List<PeerEvent> ClientEvents { get; } = [];

    /// <summary>A Chromium-like publish offer: H.264 (with RTX when asked) then Opus, BUNDLE, rtcp-mux, mid/abs-send-time/transport-cc.</summary>
    internal static string Offer(string fingerprint, string setup, bool rtx)
    {
        string common = $"c=IN IP4 0.0.0.0\r\na=ice-ufrag:cliU\r\na=ice-pwd:clientpassword0123456789\r\na=fingerprint:{fingerprint}\r\na=setup:{setup}\r\n"
            + "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
            + "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
            + "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendonly\r\na=rtcp-mux\r\n";
        return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
            + $"m=video 9 UDP/TLS/RTP/SAVPF 96{(rtx ? " 97" : "")}\r\n" + common + "a=mid:0\r\n"
            + "a=rtpmap:96 H264/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 transport-cc\r\n"
            + "a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
            + (rtx ? "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n" : "")
            + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" + common + "a=mid:1\r\n"
            + "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n";
    }

    /// <summary>Runs until <paramref name="untilMicros"/>; <paramref name="tick"/> is called at every multiple of <paramref name="tickMicros"/>.</summary>
    public void Run(long untilMicros, Action<long>? tick = null, long tickMicros = 10_000, Func<bool>? stop = null)
    {
        long nextTick = tick == null ? long.MaxValue : Now;
        for (int guard = 0; guard < 5_000_000; guard++)
        {
            if (stop != null && stop())
                return;
            long next = Math.Min(Math.Min(Client.NextTimeoutMicros, Session.NextTimeoutMicros), Link.NextDeliveryMicros);
            next = Math.Min(next, nextTick);
            if (next > untilMicros)
            {
                Now = untilMicros;
                return;
            }
            Now = Math.Max(Now, next);
            if (Now >= nextTick)
            {
                tick!(Now);
                nextTick += tickMicros;
            }
            while (Link.TryReceive(Now, out var d))
            {
                if (d.To == ServerAddress)
                    Session.HandleDatagram(d.Data, d.From, Now);
                else
                    Client.HandleDatagram(d.Data, d.From, Now);
            }
            if (Client.NextTimeoutMicros <= Now)
                Client.HandleTimeout(Now);
            if (Session.NextTimeoutMicros <= Now && !Session.IsClosed)
                Session.HandleTimeout(Now);
            Flush();
            if (Math.Min(Client.NextTimeoutMicros, Session.IsClosed ? long.MaxValue : Session.NextTimeoutMicros) <= Now && Link.NextDeliveryMicros > Now && nextTick > Now)
                Now += 100;
        }
        throw new InvalidOperationException("the harness did not settle");
    }

    public void Flush()
    {
        while (Client.TryPollTransmit(_buffer, out int n, out var to))
            Link.Send(ClientAddress, to, _buffer.AsSpan(0, n), Now);
        while (Session.TryPollTransmit(_buffer, out int n, out var to))
            Link.Send(ServerAddress, to, _buffer.AsSpan(0, n), Now);
        while (Client.TryPollEvent(out var ev))
            ClientEvents.Add(ev);
    }

    public void Connect(long timeoutMicros = 20_000_000)
    {
        Run(Now + timeoutMicros, stop: () => Client.State == PeerState.Connected && Session.Peer.State == PeerState.Connected);
        Flush();
        Assert.Equal(PeerState.Connected, Client.State);
        Assert.Equal(PeerState.Connected, Session.Peer.State);
    }

    /// <summary>
    /// Sends a hand-made RTP packet as the client would, through an SRTP context keyed like the
    /// client's own (on SSRCs the client never uses itself, so both keep their own replay state).
    /// </summary>
    public void Inject(byte payloadType, uint ssrc, ushort seq, uint timestamp, ReadOnlySpan<byte> payload, int padding = 0)
    {
        if (_injector == null)
        {
            Span<byte> km = stackalloc byte[88];
            Assert.True(Client.Dtls.TryExportSrtpKeyingMaterial(km, out int n));
            _injector = new SrtpSession((SrtpProfile)Client.Dtls.SrtpProfile, km[..n], isClient: Client.Dtls.Role == DtlsRole.Client);
        }
        var packet = new byte[1500];
        packet[0] = (byte)(0x80 | (padding > 0 ? 0x20 : 0));
        packet[1] = payloadType;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), ssrc);
        payload.CopyTo(packet.AsSpan(12));
        int length = 12 + payload.Length + padding;
        if (padding > 0)
            packet[length - 1] = (byte)padding; // RFC 3550 §5.1: the last octet counts the padding
        Assert.Equal(SrtpResult.Ok, _injector.ProtectRtp(packet, length, out int protectedLength));
        Link.Send(ClientAddress, ServerAddress, packet.AsSpan(0, protectedLength), Now);
    }

    public System.Text.Json.JsonElement Json()
    {
        using var ms = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(ms))
            Session.WriteJson(w, Now);
        return System.Text.Json.JsonDocument.Parse(ms.ToArray()).RootElement.Clone();
    }

    public void Dispose()
    {
        if (ClosedWith == null) // OnRemoved runs once, as the loop calls it
            Session.OnRemoved();
        Client.Dispose();
        _injector?.Dispose();
        _clientCert.Dispose();
        _serverCert.Dispose();
    }
}

/// <summary>Keeps every frame (bytes copied) the session delivers; asks for a keyframe when told to.</summary>
internal sealed class RecordingSink : IEncodedFrameSink
{
    public sealed record Frame(int Track, byte[] Data, uint RtpTimestamp, bool IsKeyframe);

    public List<Frame> Frames { get; } = [];
    public int Ends { get; private set; }
    public bool WantKeyframe { get; set; }

    public void OnFrame(int trackIndex, in EncodedFrame frame) => Frames.Add(new Frame(trackIndex, frame.Data.ToArray(), frame.RtpTimestamp, frame.IsKeyframe));

    public void OnEnd() => Ends++;

    public bool TakeKeyframeRequest()
    {
        bool want = WantKeyframe;
        WantKeyframe = false;
        return want;
    }
}

/// <summary>Counts frames and bytes without keeping them (for the allocation test).</summary>
internal sealed class CountingSink : IEncodedFrameSink
{
    public int Frames;
    public long Bytes;

    public void OnFrame(int trackIndex, in EncodedFrame frame)
    {
        Frames++;
        Bytes += frame.Data.Length;
    }

    public void OnEnd() { }
}
