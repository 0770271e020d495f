using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Engine.Dtls;
using Engine.Host.Peers;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Rtp.Media;

namespace Engine.Host.Tests.Metrics;

/// <summary>
/// A browser stand-in over real UDP loopback: our own <see cref="Peer"/> as the controlling ICE
/// agent and DTLS client, on an offer fixture's ufrag and password (its fingerprint swapped for
/// this client's certificate). A publisher sends H.264 keyframes at 30 fps and Opus every 20 ms on
/// the Chromium offer's SSRCs; a player receives what the answer's m-lines carry.
/// </summary>
internal sealed class LoopbackClient : IDisposable
{
    private const uint AudioSsrc = 2308255091, VideoSsrc = 3602205270; // the Chromium offer's
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
    private readonly bool _publisher;
    private readonly string _ufrag, _pwd;
    private readonly byte[] _buffer = new byte[2048];
    private readonly byte[] _keyframe = KeyframeAnnexB();
    private readonly byte[] _opus = new byte[80];
    private Peer? _peer;
    private long _connectedAt = -1, _nextVideo, _nextAudio;
    private EndPoint _from = new IPEndPoint(IPAddress.Any, 0);

    private LoopbackClient(bool publisher, string ufrag, string pwd, string offer)
    {
        _publisher = publisher;
        _ufrag = ufrag;
        _pwd = pwd;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _opus[0] = 0x78; // TOC: SILK-only 20 ms mono, one frame (RFC 6716 §3.1)
        Offer = Regex.Replace(offer, "a=fingerprint:sha-256 [0-9A-F:]+", "a=fingerprint:" + _certificate.Fingerprint);
    }

    public static LoopbackClient Publisher() => new(true, "xxcb", "n/2TSotsQp3jMAJGDUiT+yQa", Fixtures.ReadText("chromium156-offer.sdp"));

    public static LoopbackClient Player() =>
        new(false, "PlYr", "playerpassword0123456789ab", Playback.PlayNegotiationTests.Offer.ReplaceLineEndings("\r\n"));

    public string Offer { get; }
    public long VideoFrames { get; private set; }
    public long AudioPackets { get; private set; }
    public long FramesReceived { get; private set; }
    public bool Connected => _connectedAt >= 0;

    /// <summary>Builds the peer from the server's answer; it starts its checks at the first <see cref="Step"/>.</summary>
    public void Answer(string answer, DtlsCertificate server, IPEndPoint serverEndPoint, long nowMicros)
    {
        string Attr(string name) => Regex.Match(answer, $"a={name}:(\\S+)").Groups[1].Value;
        var send = new List<PeerSendTrack>();
        var receive = new List<PeerReceiveTrack>();
        foreach (var section in answer.Split("m=").Skip(1))
        {
            var m = Regex.Match(section, @"^(audio|video) \d+ \S+ (\d+)");
            byte pt = byte.Parse(m.Groups[2].Value);
            bool video = m.Groups[1].Value == "video";
            string mid = Regex.Match(section, @"a=mid:(\S+)").Groups[1].Value;
            string codec = Regex.Match(section, $"a=rtpmap:{pt} ([^/]+)/").Groups[1].Value;
            var media = codec switch { "H264" => MediaCodec.H264, "VP8" => MediaCodec.Vp8, _ => MediaCodec.Opus };
            if (_publisher)
                send.Add(new PeerSendTrack { Mid = mid, Ssrc = video ? VideoSsrc : AudioSsrc, PayloadType = pt, Codec = media, ClockRate = video ? 90_000 : 48_000 });
            else
            {
                var ssrc = Regex.Match(section, @"a=ssrc:(\d+)");
                receive.Add(new PeerReceiveTrack { Mid = mid, Ssrc = ssrc.Success ? uint.Parse(ssrc.Groups[1].Value) : 0, PayloadType = pt, Codec = media, ClockRate = video ? 90_000 : 48_000 });
            }
        }
        _peer = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            LocalUfrag = _ufrag, LocalPwd = _pwd,
            RemoteUfrag = Attr("ice-ufrag"), RemotePwd = Attr("ice-pwd"),
            RemoteCandidate = NetAddress.FromIPEndPoint(serverEndPoint),
            Certificate = _certificate, RemoteFingerprint = server.Fingerprint,
            SendTracks = send, ReceiveTracks = receive,
            MidExtensionId = 4,
            Seed = _publisher ? 7 : 8,
        }, nowMicros);
    }

    /// <summary>One turn: media due, timers, transmits, and what arrived (never blocks).</summary>
    public void Step(long now)
    {
        var peer = _peer ?? throw new InvalidOperationException("no answer yet");
        if (peer.State == PeerState.Closed)
            throw new InvalidOperationException($"the {(_publisher ? "publisher" : "player")} closed: {peer.CloseReason}");
        if (_connectedAt < 0 && peer.State == PeerState.Connected)
            _nextVideo = _nextAudio = _connectedAt = now;
        if (_publisher && _connectedAt >= 0)
        {
            if (now >= _nextVideo)
            {
                if (peer.WriteFrame(1, _keyframe, (uint)((now - _connectedAt) * 90 / 1000), now) > 0)
                    VideoFrames++;
                _nextVideo += 33_333;
            }
            if (now >= _nextAudio)
            {
                if (peer.WriteFrame(0, _opus, (uint)((now - _connectedAt) * 48 / 1000), now) > 0)
                    AudioPackets++;
                _nextAudio += 20_000;
            }
        }
        if (peer.NextTimeoutMicros <= now)
            peer.HandleTimeout(now);
        while (peer.TryPollTransmit(_buffer, out int n, out var to))
            _socket.SendTo(_buffer.AsSpan(0, n), SocketFlags.None, to.ToIPEndPoint());
        while (peer.TryPollEvent(out var ev))
            if (ev.Kind == PeerEventKind.FrameReceived)
                FramesReceived++;
        for (int i = 0; i < 64 && _socket.Available > 0; i++)
        {
            int n = _socket.ReceiveFrom(_buffer, ref _from);
            peer.HandleDatagram(_buffer.AsSpan(0, n), NetAddress.FromIPEndPoint((IPEndPoint)_from), MediaLoop.NowMicros());
        }
    }

    /// <summary>Steps every client until <paramref name="until"/> says stop or 20 s pass (then throws).</summary>
    public static void Run(IReadOnlyList<LoopbackClient> clients, Func<long, bool> until)
    {
        long start = MediaLoop.NowMicros();
        for (int guard = 0; guard < 10_000_000; guard++)
        {
            long now = MediaLoop.NowMicros();
            if (until(now))
                return;
            if (now - start > 20_000_000)
                throw new TimeoutException("the loopback clients did not finish within 20 s");
            foreach (var c in clients)
                c.Step(now);
            Thread.Sleep(1);
        }
    }

    public long ConnectedAt => _connectedAt;

    /// <summary>An SPS, a PPS and an IDR slice of filler: packetized (FU-A) like any access unit.</summary>
    private static byte[] KeyframeAnnexB()
    {
        var au = new List<byte>();
        void Nal(byte header, int length)
        {
            au.AddRange(new byte[] { 0, 0, 0, 1, header });
            for (int i = 0; i < length; i++)
                au.Add((byte)(0x40 + i % 64));
        }
        Nal(0x67, 12);
        Nal(0x68, 4);
        Nal(0x65, 3000);
        return au.ToArray();
    }

    public void Dispose()
    {
        _peer?.Dispose();
        _socket.Dispose();
        _certificate.Dispose();
    }
}
