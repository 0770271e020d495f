using System.Net;
using Engine.Dtls;
using Engine.Host.Media;
using Engine.Host.Peers;
using Engine.Host.Playback;
using Engine.Host.Sessions;
using Engine.Host.Tests.Peers;
using Engine.Ice;
using Engine.Rtp.Media;
using Engine.Rtp.Sdp;

namespace Engine.Host.Tests.Playback;

/// <summary>
/// A publisher (a client Peer sending H.264 to a PublishSession) and a player (a PlaySession sending
/// to a client Peer) in memory on a fake clock: the player's video starts at a keyframe the
/// publisher was asked for, and the player ends when the publisher leaves.
/// </summary>
public sealed class PlaybackInMemoryTests : IDisposable
{
    private static readonly NetAddress Server = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 3478));
    private static readonly NetAddress PubClient = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 50000));
    private static readonly NetAddress PlayClient = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.3"), 50000));
    private static readonly byte[][] Video = PeerTestData.AccessUnits("baseline-320x240.h264").Select(PeerTestData.AnnexB).ToArray();

    private readonly DtlsCertificate _serverCert = DtlsCertificate.Generate(), _pubCert = DtlsCertificate.Generate(), _playCert = DtlsCertificate.Generate();
    private readonly MemoryLink _link = new(5) { DelayMicros = 25_000 }; // 50 ms RTT: frames leave while the PLI travels
    private readonly byte[] _buffer = new byte[1500];
    private readonly PublishSession _publisher;
    private readonly Peer _pubPeer;
    private PlaySession? _player;
    private Peer? _playPeer;
    private long _now;

    public PlaybackInMemoryTests()
    {
        var tracks = new List<NegotiatedTrack> { new("0", MediaKind.Video, "H264", 102, 90000, 1, "42e01f", [0x1111]) };
        var negotiation = new PublishNegotiation.Result(new SessionDescription(), tracks, "pubC", "pub-client-password-0123",
            [new SdpFingerprint("sha-256", _pubCert.Fingerprint.Value.ToArray())], false, new Dictionary<string, int>());
        _publisher = new PublishSession("pub", "cam", "whip", negotiation, "pubS", "publish-server-password0", _serverCert, new NullFrameSink(),
            new SessionOptions(500_000, false, 0, 0, false), 0);
        _publisher.MarkDirty = _ => { };
        _pubPeer = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            LocalUfrag = "pubC", LocalPwd = "pub-client-password-0123",
            RemoteUfrag = "pubS", RemotePwd = "publish-server-password0", RemoteCandidate = Server,
            Certificate = _pubCert, RemoteFingerprint = _serverCert.Fingerprint,
            SendTracks = [new PeerSendTrack { Mid = "0", Ssrc = 0x1111, PayloadType = 102, Codec = MediaCodec.H264 }],
            Seed = 1,
        }, 0);
    }

    private void StartPlayer()
    {
        _player = new PlaySession("ply", "cam", "whep", _publisher, new PeerConfig
        {
            Role = PeerRole.IceLiteServer,
            LocalUfrag = "plyS", LocalPwd = "play-server-password-0123",
            RemoteUfrag = "plyC",
            Certificate = _serverCert, RemoteFingerprint = _playCert.Fingerprint,
            SendTracks = [new PeerSendTrack { Mid = "0", Ssrc = 0x5555, PayloadType = 96, Codec = MediaCodec.H264 }],
            Seed = 2,
        }, [new PlayTrack("0", MediaKind.Video, "H264", 0, 96, 90000, 0x5555, null, 0)], _now);
        _playPeer = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            LocalUfrag = "plyC", LocalPwd = "play-client-password-0123",
            RemoteUfrag = "plyS", RemotePwd = "play-server-password-0123", RemoteCandidate = Server,
            Certificate = _playCert, RemoteFingerprint = _serverCert.Fingerprint,
            ReceiveTracks = [new PeerReceiveTrack { Mid = "0", Ssrc = 0x5555, PayloadType = 96, Codec = MediaCodec.H264 }],
            Seed = 3,
        }, _now);
    }

    private readonly List<PeerEvent> _pubEvents = [], _playEvents = [];
    private int _nextFrame;

    /// <summary>Runs to <paramref name="until"/>; the publisher writes a frame every 33 ms, an IDR only when asked for a keyframe.</summary>
    private void Run(long until)
    {
        long nextFrame = _now;
        for (int guard = 0; guard < 2_000_000 && _now < until; guard++)
        {
            long next = Math.Min(Math.Min(_publisher.NextTimeoutMicros, _pubPeer.NextTimeoutMicros), Math.Min(_link.NextDeliveryMicros, nextFrame));
            if (_player != null)
                next = Math.Min(next, Math.Min(_player.NextTimeoutMicros, _playPeer!.NextTimeoutMicros));
            _now = Math.Min(until, Math.Max(_now + 1, next));
            if (_now >= nextFrame)
            {
                if (_pubPeer.State == PeerState.Connected)
                {
                    // The first GOP's IDR only when asked for (or at the start), its nine P frames round and round otherwise.
                    _pubPeer.WriteFrame(0, Video[_nextFrame], (uint)(_now * 9 / 100), _now);
                    _nextFrame = _nextFrame % 9 + 1;
                }
                nextFrame += 33_333;
            }
            while (_link.TryReceive(_now, out var d))
            {
                if (d.To == Server)
                {
                    if (d.From == PubClient) _publisher.HandleDatagram(d.Data, d.From, _now);
                    else _player?.HandleDatagram(d.Data, d.From, _now);
                }
                else if (d.To == PubClient) _pubPeer.HandleDatagram(d.Data, d.From, _now);
                else _playPeer?.HandleDatagram(d.Data, d.From, _now);
            }
            if (_publisher.NextTimeoutMicros <= _now) _publisher.HandleTimeout(_now);
            if (_pubPeer.NextTimeoutMicros <= _now) _pubPeer.HandleTimeout(_now);
            if (_player != null && _player.NextTimeoutMicros <= _now) _player.HandleTimeout(_now);
            if (_playPeer != null && _playPeer.NextTimeoutMicros <= _now) _playPeer.HandleTimeout(_now);
            Flush();
        }
    }

    private void Flush()
    {
        while (_publisher.TryPollTransmit(_buffer, out int n, out var to)) _link.Send(Server, to, _buffer.AsSpan(0, n), _now);
        while (_pubPeer.TryPollTransmit(_buffer, out int n, out var to)) _link.Send(PubClient, to, _buffer.AsSpan(0, n), _now);
        while (_player != null && _player.TryPollTransmit(_buffer, out int n, out var to)) _link.Send(Server, to, _buffer.AsSpan(0, n), _now);
        while (_playPeer != null && _playPeer.TryPollTransmit(_buffer, out int n, out var to)) _link.Send(PlayClient, to, _buffer.AsSpan(0, n), _now);
        while (_pubPeer.TryPollEvent(out var ev))
        {
            _pubEvents.Add(ev);
            if (ev.Kind == PeerEventKind.KeyframeRequested)
                _nextFrame = 0; // the file's first access unit is the IDR
        }
        while (_playPeer != null && _playPeer.TryPollEvent(out var ev))
            _playEvents.Add(ev);
    }

    [Fact]
    public void PlayerStartsAtARequestedKeyframeAndEndsWithThePublisher()
    {
        Run(2_000_000);
        Assert.Equal(PeerState.Connected, _pubPeer.State);
        int requestsBefore = _pubEvents.Count(e => e.Kind == PeerEventKind.KeyframeRequested);
        StartPlayer();
        Run(5_000_000);

        Assert.Equal(PeerState.Connected, _playPeer!.State);
        Assert.Equal(1, _publisher.PlayerCount);
        var frames = _playEvents.Where(e => e.Kind == PeerEventKind.FrameReceived).ToList();
        Assert.True(frames.Count >= 60, $"{frames.Count} frames played");
        Assert.True(frames[0].IsKeyframe, "the player's first frame is not a keyframe");
        Assert.True(_player!.DroppedBeforeKeyframe > 0);
        // Joining asked the publisher for one keyframe (a PLI reached the publishing peer).
        Assert.True(_pubEvents.Count(e => e.Kind == PeerEventKind.KeyframeRequested) > requestsBefore);
        Assert.True(_publisher.KeyframeRequests.Passed >= 1);
        Assert.True(_player.Peer.GetSendStream(0).PacketsSent > 60);

        // The publisher leaves the loop: its player ends with BYE and close_notify.
        _publisher.RequestClose("signaling: test");
        _publisher.OnRemoved();
        Run(_now + 1_000_000);
        Assert.True(_player.IsClosed);
        Assert.Equal("the publisher left", _player.CloseReason);
        Assert.Equal(PeerState.Closed, _playPeer.State);
        Assert.Contains(_playEvents, e => e.Kind == PeerEventKind.Closed);
    }

    /// <summary>The console's figures for a player: frames sent (an old frame re-sent is not counted again), RTT and loss from its receiver reports.</summary>
    [Fact]
    public void PlayerStatusHasFramesSentRttAndLoss()
    {
        Run(2_000_000);
        StartPlayer();
        Run(5_000_000);
        var frames = _playEvents.Count(e => e.Kind == PeerEventKind.FrameReceived);
        var video = Status().GetProperty("playback")[0].GetProperty("tracks")[0];
        long sent = video.GetProperty("framesSent").GetInt64();
        Assert.InRange(sent, frames, frames + 15); // frames on the link and in the client's receive pipeline lead (at 30/s, half a second)
        Assert.Equal(0, video.GetProperty("packetsLost").GetInt64());
        Assert.Equal(0, video.GetProperty("fractionLost").GetDouble());
        double rtt = Status().GetProperty("playback")[0].GetProperty("rttMs").GetDouble();
        Assert.InRange(rtt, 45, 60); // the link's 2 x 25 ms

        // A marker packet of an older frame (as an RTX probe re-sends it) is sent but not counted; a newer one is.
        // The publisher is paused here: only these packets reach the player, and its timer publishes the snapshot.
        byte[] rtp = new byte[20];
        rtp[0] = 0x80;
        rtp[1] = 0x80 | 102;
        rtp[12] = 0x41; // a P-frame slice NAL
        uint last = (uint)(_now * 9 / 100);
        long Forward(uint timestamp, long at)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(rtp.AsSpan(4), timestamp);
            var history = _publisher.GetForwardHistory(0)!;
            _player!.Forward(0, history, history.Store(rtp), false, at - 300_000);
            _player.HandleTimeout(at);
            return Status().GetProperty("playback")[0].GetProperty("tracks")[0].GetProperty("framesSent").GetInt64();
        }
        _player!.HandleTimeout(_now + 300_000);
        long counted = Status().GetProperty("playback")[0].GetProperty("tracks")[0].GetProperty("framesSent").GetInt64();
        Assert.Equal(counted, Forward(last - 90_000, _now + 600_000));
        Assert.Equal(counted + 1, Forward(last + 900_000, _now + 900_000));
        Assert.Equal(counted + 1, Forward(last + 900_000, _now + 1_200_000)); // the same frame's marker again
    }

    private System.Text.Json.JsonElement Status()
    {
        var ms = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartArray("playback");
            _player!.WriteJson(w, _now);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Json.JsonDocument.Parse(ms.ToArray()).RootElement.Clone();
    }

    public void Dispose()
    {
        _pubPeer.Dispose();
        _playPeer?.Dispose();
        _serverCert.Dispose();
        _pubCert.Dispose();
        _playCert.Dispose();
    }
}
