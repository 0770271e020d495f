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
/// A publisher over real UDP loopback: our own <see cref="Peer"/> as the controlling ICE agent
/// and DTLS client, on the ufrag, password and SSRCs of the Chromium offer fixture (its
/// fingerprint swapped for this client's certificate). Sends H.264 at 30 fps and Opus every 20 ms.
/// </summary>
internal sealed class LoopbackPublisher : IDisposable
{
    public const uint AudioSsrc = 2308255091, VideoSsrc = 3602205270;

    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private Peer? _peer;

    public LoopbackPublisher() => _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    /// <summary>The Chromium offer with this client's fingerprint.</summary>
    public string Offer()
    {
        string offer = Fixtures.ReadText("chromium156-offer.sdp");
        return Regex.Replace(offer, "a=fingerprint:sha-256 [0-9A-F:]+", "a=fingerprint:" + _certificate.Fingerprint);
    }

    public long VideoFrames { get; private set; }
    public long AudioPackets { get; private set; }
    public bool Connected => _peer?.State == PeerState.Connected;

    /// <summary>Connects to the answer's candidate and sends media for <paramref name="seconds"/> after the connection is up (bounded).</summary>
    public void Run(string answer, DtlsCertificate server, IPEndPoint serverEndPoint, double seconds)
    {
        string Attr(string name) => Regex.Match(answer, $"a={name}:(\\S+)").Groups[1].Value;
        int videoPt = int.Parse(Regex.Match(answer, @"m=video \d+ \S+ (\d+)").Groups[1].Value);
        var remote = NetAddress.FromIPEndPoint(serverEndPoint);
        long now = MediaLoop.NowMicros();
        _peer = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            LocalUfrag = "xxcb", LocalPwd = "n/2TSotsQp3jMAJGDUiT+yQa",
            RemoteUfrag = Attr("ice-ufrag"), RemotePwd = Attr("ice-pwd"),
            RemoteCandidate = remote,
            Certificate = _certificate, RemoteFingerprint = server.Fingerprint,
            SendTracks =
            [
                new PeerSendTrack { Mid = "0", Ssrc = AudioSsrc, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
                new PeerSendTrack { Mid = "1", Ssrc = VideoSsrc, PayloadType = (byte)videoPt, Codec = MediaCodec.H264 },
            ],
            MidExtensionId = 4,
            Seed = 7,
        }, now);
        var buffer = new byte[2048];
        var frame = KeyframeAnnexB();
        var opus = new byte[80];
        opus[0] = 0x78; // TOC: SILK-only 20 ms mono, one frame (RFC 6716 §3.1)
        long start = now, connectedAt = -1, nextVideo = 0, nextAudio = 0;
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        for (int guard = 0; guard < 2_000_000; guard++)
        {
            now = MediaLoop.NowMicros();
            if (now - start > 20_000_000 || (connectedAt >= 0 && now - connectedAt > seconds * 1e6))
                break;
            if (_peer.State == PeerState.Closed)
                throw new InvalidOperationException("the publisher closed: " + _peer.CloseReason);
            if (connectedAt < 0 && _peer.State == PeerState.Connected)
                nextVideo = nextAudio = connectedAt = now;
            if (connectedAt >= 0 && now >= nextVideo)
            {
                if (_peer.WriteFrame(1, frame, (uint)((now - connectedAt) * 90 / 1000), now) > 0)
                    VideoFrames++;
                nextVideo += 33_333;
            }
            if (connectedAt >= 0 && now >= nextAudio)
            {
                if (_peer.WriteFrame(0, opus, (uint)((now - connectedAt) * 48 / 1000), now) > 0)
                    AudioPackets++;
                nextAudio += 20_000;
            }
            if (_peer.NextTimeoutMicros <= now)
                _peer.HandleTimeout(now);
            while (_peer.TryPollTransmit(buffer, out int n, out var to))
                _socket.SendTo(buffer.AsSpan(0, n), SocketFlags.None, to.ToIPEndPoint());
            while (_peer.TryPollEvent(out _)) { }
            if (_socket.Poll(2_000, SelectMode.SelectRead))
            {
                int n = _socket.ReceiveFrom(buffer, ref from);
                _peer.HandleDatagram(buffer.AsSpan(0, n), NetAddress.FromIPEndPoint((IPEndPoint)from), MediaLoop.NowMicros());
            }
        }
        if (connectedAt < 0)
            throw new TimeoutException("the publisher did not connect within 20 s");
    }

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
