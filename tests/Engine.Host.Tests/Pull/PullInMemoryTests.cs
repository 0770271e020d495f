using System.Net;
using Engine.Dtls;
using Engine.Host.Peers;
using Engine.Host.Playback;
using Engine.Host.Pull;
using Engine.Host.Sessions;
using Engine.Host.Tests.Peers;
using Engine.Ice;
using Engine.Rtp.Media;

namespace Engine.Host.Tests.Pull;

/// <summary>
/// Issue 15: an RTMP pull's feed (its GOP cache) and a player (a client Peer) in memory on a fake
/// clock. The pull has no thread: the test queues its frames as the pull thread would, a 10-frame
/// GOP of H.264 at 30 frames/s and 20 ms Opus packets.
/// </summary>
public sealed class PullInMemoryTests : IDisposable
{
    private static readonly NetAddress Server = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 3478));
    private static readonly NetAddress Client = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.3"), 50000));
    // The file's first access unit is the IDR (SPS/PPS in front), then P frames: a GOP of ten here.
    private static readonly byte[][] Video = PeerTestData.AccessUnits("baseline-320x240.h264").Take(10).Select(PeerTestData.AnnexB).ToArray();

    private readonly DtlsCertificate _serverCert = DtlsCertificate.Generate(), _clientCert = DtlsCertificate.Generate();
    private readonly MemoryLink _link = new(15) { DelayMicros = 10_000 };
    private readonly byte[] _buffer = new byte[1500];
    private readonly RtmpPull _pull = RtmpPull.Create("s", "rtmp://127.0.0.1/live/s")!;
    private readonly PullFeed _feed;
    private readonly Random _random = new(15);
    private PullPlayer? _player;
    private Peer? _peer;
    private long _now, _nextVideo, _nextAudio;
    private int _videoIndex;
    private readonly List<(PeerEvent Event, long At)> _events = [];

    public PullInMemoryTests() => _feed = new PullFeed(_pull, _ => { }, 0);

    public bool Audio { get; set; } = true;

    // The VP8 frames the pull would encode for a player without H.264 (IVF: 32-byte header, 12-byte frame headers).
    private static readonly byte[][] Vp8 = IvfFrames("vp8-320x240.ivf");

    private static byte[][] IvfFrames(string file)
    {
        var b = File.ReadAllBytes(PeerTestData.PathOf(file));
        var frames = new List<byte[]>();
        for (int o = BitConverter.ToUInt16(b, 6); o + 12 <= b.Length; o += 12 + BitConverter.ToInt32(b, o))
            frames.Add(b.AsSpan(o + 12, BitConverter.ToInt32(b, o)).ToArray());
        return frames.ToArray();
    }

    public bool Vp8Player { get; set; }

    private void StartPlayer()
    {
        var videoCodec = Vp8Player ? MediaCodec.Vp8 : MediaCodec.H264;
        _player = new PullPlayer("ply", "s", "whep", _feed, new PeerConfig
        {
            Role = PeerRole.IceLiteServer,
            LocalUfrag = "plyS", LocalPwd = "play-server-password-0123",
            RemoteUfrag = "plyC",
            Certificate = _serverCert, RemoteFingerprint = _clientCert.Fingerprint,
            SendTracks =
            [
                new PeerSendTrack { Mid = "0", Ssrc = 0x5555, PayloadType = 96, Codec = videoCodec },
                new PeerSendTrack { Mid = "1", Ssrc = 0x6666, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
            ],
            Seed = 2,
        }, [new PlayTrack("0", MediaKind.Video, Vp8Player ? "VP8" : "H264", 0, 96, 90000, 0x5555, null, 0), new PlayTrack("1", MediaKind.Audio, "opus", 1, 111, 48000, 0x6666, null, 0)], _now);
        _peer = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            LocalUfrag = "plyC", LocalPwd = "play-client-password-0123",
            RemoteUfrag = "plyS", RemotePwd = "play-server-password-0123", RemoteCandidate = Server,
            Certificate = _clientCert, RemoteFingerprint = _serverCert.Fingerprint,
            ReceiveTracks =
            [
                new PeerReceiveTrack { Mid = "0", Ssrc = 0x5555, PayloadType = 96, Codec = videoCodec },
                new PeerReceiveTrack { Mid = "1", Ssrc = 0x6666, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
            ],
            Seed = 3,
        }, _now);
    }

    /// <summary>Runs to <paramref name="until"/>: the source makes a frame every 33 ms (a key frame every tenth) and an Opus packet every 20 ms.</summary>
    private void Run(long until, bool source = true)
    {
        for (int guard = 0; guard < 1_000_000 && _now < until; guard++)
        {
            long next = Math.Min(_feed.NextTimeoutMicros, _link.NextDeliveryMicros);
            if (source)
                next = Math.Min(next, Math.Min(_nextVideo, Audio ? _nextAudio : long.MaxValue));
            if (_player != null)
                next = Math.Min(next, Math.Min(_player.NextTimeoutMicros, _peer!.NextTimeoutMicros));
            _now = Math.Min(until, Math.Max(_now + 1, next));
            if (source && _now >= _nextVideo)
            {
                _pull.Enqueue(PulledFrame.Copy(Video[_videoIndex], true, _videoIndex == 0, _nextVideo / 1000));
                // While a VP8 player is attached the pull also encodes VP8 (a keyframe every tenth here too).
                if (_pull.Vp8Players > 0)
                    _pull.Enqueue(PulledFrame.Copy(Vp8[_videoIndex], true, _videoIndex == 0, _nextVideo / 1000, vp8: true));
                _videoIndex = (_videoIndex + 1) % Video.Length;
                _nextVideo += 33_333;
            }
            if (source && Audio && _now >= _nextAudio)
            {
                _pull.Enqueue(PulledFrame.Copy(PeerTestData.OpusFrame(_random), false, false, _nextAudio / 1000));
                _nextAudio += 20_000;
            }
            while (_link.TryReceive(_now, out var d))
            {
                if (d.To == Server) _player?.HandleDatagram(d.Data, d.From, _now);
                else _peer?.HandleDatagram(d.Data, d.From, _now);
            }
            if (!_feed.IsClosed && _feed.NextTimeoutMicros <= _now) _feed.HandleTimeout(_now);
            if (_player != null && !_player.IsClosed && _player.NextTimeoutMicros <= _now) _player.HandleTimeout(_now);
            if (_peer != null && _peer.NextTimeoutMicros <= _now) _peer.HandleTimeout(_now);
            while (_player != null && _player.TryPollTransmit(_buffer, out int n, out var to)) _link.Send(Server, to, _buffer.AsSpan(0, n), _now);
            while (_peer != null && _peer.TryPollTransmit(_buffer, out int n, out var to)) _link.Send(Client, to, _buffer.AsSpan(0, n), _now);
            while (_peer != null && _peer.TryPollEvent(out var ev)) _events.Add((ev, _now));
        }
    }

    private List<(PeerEvent Event, long At)> Frames(int track) => _events.Where(e => e.Event.Kind == PeerEventKind.FrameReceived && e.Event.Track == track).ToList();

    private long ConnectedAt => _events.First(e => e.Event.Kind == PeerEventKind.Connected).At;

    [Fact]
    public void APlayerJoiningMidGopGetsTheCachedKeyFrameAtOnce()
    {
        Run(1_000_000 + 5 * 33_333); // five frames into the fourth GOP
        StartPlayer();
        Run(_now + 1_500_000);

        Assert.Equal(PeerState.Connected, _peer!.State);
        var video = Frames(0);
        Assert.True(video.Count >= 40, $"{video.Count} frames");
        Assert.True(video[0].Event.IsKeyframe, "the first frame is not a key frame");
        // The cached GOP leaves at Connected: its key frame is there one link delay later, not at the next GOP (up to 333 ms on).
        Assert.InRange(video[0].At - ConnectedAt, 0, 30_000);
        Assert.Equal(1, _feed.CacheReplays);
        Assert.Equal(1, _player!.Replays);
        Assert.Equal(0, _player.DroppedBeforeKeyframe);
        // RTP time never runs backwards across the replay into live frames (RFC 3550 §5.1).
        for (int i = 1; i < video.Count; i++)
            Assert.True((int)(video[i].Event.RtpTimestamp - video[i - 1].Event.RtpTimestamp) > 0, $"frame {i}: {video[i - 1].Event.RtpTimestamp} then {video[i].Event.RtpTimestamp}");
        var audio = Frames(1);
        Assert.True(audio.Count >= 60, $"{audio.Count} audio frames");
        Assert.All(audio.Skip(1).Zip(audio), p => Assert.Equal(960u, p.First.Event.RtpTimestamp - p.Second.Event.RtpTimestamp)); // 20 ms at 48 kHz
    }

    [Fact]
    public void APliIsAnsweredFromTheCacheAtMostOnceASecond()
    {
        Run(500_000);
        StartPlayer();
        Run(_now + 2_000_000);
        long replays = _feed.CacheReplays, pliAt = _now;
        _peer!.RequestKeyframe(0);
        Run(_now + 100_000);
        Assert.Equal(replays + 1, _feed.CacheReplays);
        // The PLI's trip and the cached key frame's: two link delays, not a wait for the next GOP.
        var key = Frames(0).First(f => f.At > pliAt && f.Event.IsKeyframe);
        Assert.InRange(key.At - pliAt, 0, 40_000);
        _peer.RequestKeyframe(0);
        Run(_now + 100_000);
        Assert.Equal(replays + 1, _feed.CacheReplays); // a second PLI right after: the live key frame answers it
    }

    [Fact]
    public void AVp8PlayerGetsOnlyVp8FramesAndCountsWhileAttached()
    {
        Vp8Player = true;
        Run(500_000);
        Assert.Equal(0, _pull.Vp8Players);
        StartPlayer();
        Run(_now + 1_500_000);
        Assert.Equal(PeerState.Connected, _peer!.State);
        Assert.Equal(1, _pull.Vp8Players); // the pull encodes VP8 while it is attached
        var video = Frames(0);
        Assert.True(video.Count >= 30, $"{video.Count} frames");
        Assert.True(video[0].Event.IsKeyframe); // our Vp8Depacketizer on the client read the VP8 keyframe header
        Assert.Equal(0, _feed.CacheReplays); // VP8 is not cached: the encoder is asked for a keyframe instead
        Assert.Equal(0, _player!.Replays);
        for (int i = 1; i < video.Count; i++)
            Assert.True((int)(video[i].Event.RtpTimestamp - video[i - 1].Event.RtpTimestamp) > 0);
        Assert.True(Frames(1).Count >= 60);
        _player.RequestClose("test");
        Run(_now + 200_000);
        _player.OnRemoved();
        Assert.Equal(0, _pull.Vp8Players); // the last VP8 player left: the encoder stops
    }

    [Fact]
    public void ASourceThatEndsEndsItsPlayers()
    {
        Run(500_000);
        StartPlayer();
        Run(_now + 1_000_000);
        Assert.Equal(PeerState.Connected, _peer!.State);
        _pull.End(PullState.Ended, "the RTMP server closed the connection");
        Run(_now + 500_000, source: false);
        Assert.True(_feed.IsClosed);
        Assert.True(_player!.IsClosed);
        Assert.StartsWith("the RTMP source ended", _player.CloseReason);
        Assert.Contains(_events, e => e.Event.Kind == PeerEventKind.Closed);
        Assert.False(_feed.Attach(_player)); // a late player finds it over
    }

    [Fact]
    public void AGopTooLongForTheCacheIsNotReplayed()
    {
        Audio = false;
        Run(100_000);
        Assert.True(_feed.Replay(NotConnectedPlayer(), _now)); // a key frame is cached
        // 600 frames without a key frame: the cache gives up until the next one.
        for (int i = 0; i < 600; i++)
        {
            _pull.Enqueue(PulledFrame.Copy(Video[1], true, false, 200 + i));
            if (i % 100 == 99)
                _feed.HandleTimeout(_now += 2_000); // the pull's queue holds 512
        }
        Assert.Equal(0, _pull.FramesDropped);
        Assert.False(_feed.Replay(NotConnectedPlayer(), _now));
        Assert.Equal(0, _pull.KeyframesRequested); // a pass-through source cannot be asked
    }

    private PullPlayer NotConnectedPlayer() => new("x", "s", "whep", _feed, new PeerConfig
    {
        Role = PeerRole.IceLiteServer, LocalUfrag = "xS", LocalPwd = "x-server-password-0123456", RemoteUfrag = "xC",
        Certificate = _serverCert, RemoteFingerprint = _clientCert.Fingerprint,
        SendTracks = [new PeerSendTrack { Mid = "0", Ssrc = 0x7777, PayloadType = 96, Codec = MediaCodec.H264 }],
    }, [new PlayTrack("0", MediaKind.Video, "H264", 0, 96, 90000, 0x7777, null, 0)], _now);

    public void Dispose()
    {
        _feed.OnRemoved();
        _peer?.Dispose();
        _serverCert.Dispose();
        _clientCert.Dispose();
    }
}
