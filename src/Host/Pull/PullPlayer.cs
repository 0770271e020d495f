using System.Buffers.Binary;
using System.Text.Json;
using Engine.Host.Peers;
using Engine.Host.Playback;
using Engine.Host.Sessions;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Rtp.Send;

namespace Engine.Host.Pull;

/// <summary>
/// One player of an RTMP pull (WHEP or sendSdpPull): a send-only <see cref="Peer"/> on the media
/// loop that packetizes the feed's frames itself (<see cref="Peer.WriteFrame"/>). On connect, and on
/// a PLI (an RTMP publisher cannot be asked), the feed's cached GOP is sent at once with timestamps
/// one tick apart, so the decoder catches up without waiting; live frames continue after it. A player
/// answered VP8 (it offered no usable H.264) gets the pull's VP8 frames, packetized here
/// (<see cref="Vp8Packetizer"/>) and sent with <see cref="Peer.WriteRtp"/>; its joins and PLIs ask
/// the VP8 encoder for a keyframe.
/// Loop thread only, except <see cref="RequestClose"/> and <see cref="WriteJson"/>.
/// </summary>
internal sealed class PullPlayer : IMediaSession
{
    private const long ReplayIntervalMicros = 1_000_000;

    private readonly Peer _peer;
    private readonly PullFeed _feed;
    private readonly int _videoTrack = -1, _audioTrack = -1;
    private readonly PlayTrack[] _tracks;
    private bool _attached, _waitingForKeyframe = true, _sentVideo;
    private long _videoOffset;
    private uint _lastVideoTs;
    // Not long.MinValue: now - MinValue overflows, and the join's replay was refused (the first frame then waited for the next GOP).
    private long _lastReplayMicros = long.MinValue / 2;
    private volatile bool _closeRequested;
    private volatile string? _closeReason;
    private volatile string _state = "ice";
    private long _now;
    private readonly Vp8Packetizer? _vp8;
    private readonly byte[]? _rtp;
    private ushort _vp8Seq;

    public PullPlayer(string id, string stream, string signaling, PullFeed feed, PeerConfig config, IReadOnlyList<PlayTrack> tracks, long nowMicros)
    {
        Id = id;
        Stream = stream;
        Signaling = signaling;
        LocalUfrag = config.LocalUfrag;
        CreatedMicros = nowMicros;
        _feed = feed;
        _tracks = tracks.ToArray();
        for (int i = 0; i < _tracks.Length; i++)
        {
            if (_tracks[i].Kind == MediaKind.Video) _videoTrack = i;
            else _audioTrack = i;
        }
        if (_videoTrack >= 0 && _tracks[_videoTrack].Codec == "VP8")
        {
            _vp8 = new Vp8Packetizer(firstPictureId: Random.Shared.Next(0x8000));
            _rtp = new byte[RtpHeaderLength + _vp8.MaxPayloadSize];
        }
        _peer = new Peer(config, nowMicros);
        _videoOffset = Random.Shared.Next();
        _now = nowMicros;
    }

    public string Id { get; }
    public string Stream { get; }
    public string Signaling { get; }
    public string LocalUfrag { get; }
    public long CreatedMicros { get; }
    public PullFeed Feed => _feed;
    /// <summary>Answered VP8: fed the pull's VP8 frames, not its H.264.</summary>
    public bool IsVp8 => _vp8 != null;
    public string? CloseReason => _closeReason ?? _peer.CloseReason;
    public long VideoFramesSent, AudioFramesSent, DroppedBeforeKeyframe, Replays;
    public Action<PullPlayer, string>? OnClosed { get; set; }
    /// <summary>What /api/streams shows as its state (any thread).</summary>
    internal string State => _state;

    public NetAddress? SelectedRemote => _peer.Route;
    public bool IsClosed => _peer.State == PeerState.Closed;
    /// <summary>Its send-side estimate (GCC) as of the feed's last look; -1 before the estimator heard any feedback (any thread).</summary>
    public long TargetBps => Volatile.Read(ref _targetBps);
    private long _targetBps = -1;

    /// <summary>
    /// Loop thread: reads the peer's target. Before transport-cc feedback or a REMB it is only the
    /// estimator's start value, and a player whose browser sends neither must not hold the encoder there.
    /// </summary>
    internal long RefreshTargetBps()
    {
        var e = _peer.SendEstimator;
        long bps = e != null && _peer.State == PeerState.Connected && (e.FeedbackReports > 0 || e.RembBps > 0) ? e.TargetBps : -1;
        Volatile.Write(ref _targetBps, bps);
        return bps;
    }
    public long NextTimeoutMicros => !_attached || (_closeRequested && _peer.State != PeerState.Closed) ? 0 : _peer.NextTimeoutMicros;

    public void RequestClose(string reason)
    {
        _closeReason ??= reason;
        _closeRequested = true;
    }

    public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros)
    {
        _now = nowMicros;
        _peer.HandleDatagram(datagram, from, nowMicros);
        DrainEvents(nowMicros);
    }

    public void HandleTimeout(long nowMicros)
    {
        _now = nowMicros;
        if (!_attached)
        {
            _attached = true;
            if (!_feed.Attach(this))
                RequestClose(_feed.EndReason ?? "the RTMP source ended");
        }
        if (_closeRequested)
            _peer.Close(nowMicros);
        else
            _peer.HandleTimeout(nowMicros);
        DrainEvents(nowMicros);
    }

    public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to) => _peer.TryPollTransmit(destination, out length, out to);

    private void DrainEvents(long nowMicros)
    {
        for (int i = 0; i < 1024 && _peer.TryPollEvent(out var ev); i++)
        {
            if (ev.Kind == PeerEventKind.Connected && _videoTrack >= 0)
                TryReplay(nowMicros);
            else if (ev.Kind == PeerEventKind.KeyframeRequested && _videoTrack >= 0)
                TryReplay(nowMicros);
        }
        _state = _peer.State switch
        {
            PeerState.Closed => "closed",
            PeerState.Connected => _waitingForKeyframe && _videoTrack >= 0 ? "waiting-keyframe" : "media",
            _ => _peer.Route != null ? "dtls" : "ice",
        };
    }

    private void TryReplay(long nowMicros)
    {
        // The cache answers a PLI; the next live key frame answers it too, so once a second is plenty.
        if (nowMicros - _lastReplayMicros < ReplayIntervalMicros)
            return;
        if (_feed.Replay(this, nowMicros))
            _lastReplayMicros = nowMicros;
    }

    /// <summary>The cached GOP, one tick apart after what was sent; live frames continue after its last.</summary>
    public void WriteReplay(List<PulledFrame> gop, long nowMicros)
    {
        if (_peer.State != PeerState.Connected || _peer.VideoPaused)
            return;
        Replays++;
        uint ts = _sentVideo ? _lastVideoTs + 1 : (uint)(gop[0].Millis * 90 + _videoOffset);
        for (int i = 0; i < gop.Count; i++, ts++)
        {
            _peer.WriteFrame(_videoTrack, gop[i].Data, ts, nowMicros);
            VideoFramesSent++;
        }
        _lastVideoTs = ts - 1;
        _videoOffset = _lastVideoTs - gop[^1].Millis * 90;
        _sentVideo = true;
        _waitingForKeyframe = false;
    }

    /// <summary>One live access unit (Annex B); true when packets were written.</summary>
    public bool WriteVideo(ReadOnlySpan<byte> annexB, bool keyframe, long millis, long nowMicros)
    {
        if (_videoTrack < 0 || _peer.State != PeerState.Connected)
            return false;
        if (_peer.VideoPaused)
        {
            _waitingForKeyframe = true; // resumed video starts at a key frame (the resume asks for one: a replay)
            return false;
        }
        if (_waitingForKeyframe)
        {
            if (!keyframe)
            {
                DroppedBeforeKeyframe++;
                return false;
            }
            _waitingForKeyframe = false;
        }
        uint ts = (uint)(millis * 90 + _videoOffset);
        if (_sentVideo && (int)(ts - _lastVideoTs) <= 0)
        {
            _videoOffset += (int)(_lastVideoTs - ts) + 1; // never backwards after a replay
            ts = _lastVideoTs + 1;
        }
        _lastVideoTs = ts;
        _sentVideo = true;
        VideoFramesSent++;
        return _vp8 != null ? WriteVp8(annexB, ts, nowMicros) : _peer.WriteFrame(_videoTrack, annexB, ts, nowMicros) > 0;
    }

    private const int RtpHeaderLength = 12;

    /// <summary>One VP8 frame as RTP packets (RFC 7741 §4.1: the marker on its last); the peer's rewriter sets our SSRC and sequence.</summary>
    private bool WriteVp8(ReadOnlySpan<byte> frame, uint ts, long nowMicros)
    {
        var rtp = _rtp!;
        int offset = 0, sent = 0;
        bool last;
        do
        {
            int n = _vp8!.Next(frame, ref offset, rtp.AsSpan(RtpHeaderLength), out last);
            if (n == 0)
                break;
            rtp[0] = 0x80; // RFC 3550 §5.1: V=2
            rtp[1] = (byte)((last ? 0x80 : 0) | _tracks[_videoTrack].PayloadType);
            BinaryPrimitives.WriteUInt16BigEndian(rtp.AsSpan(2), _vp8Seq++);
            BinaryPrimitives.WriteUInt32BigEndian(rtp.AsSpan(4), ts);
            BinaryPrimitives.WriteUInt32BigEndian(rtp.AsSpan(8), 1);
            if (_peer.WriteRtp(_videoTrack, rtp.AsSpan(0, RtpHeaderLength + n), nowMicros))
                sent++;
        }
        while (!last);
        return sent > 0;
    }

    /// <summary>One Opus packet at the source's millisecond clock.</summary>
    public bool WriteAudio(ReadOnlySpan<byte> opus, long millis, long nowMicros)
    {
        if (_audioTrack < 0 || _peer.State != PeerState.Connected)
            return false;
        AudioFramesSent++;
        return _peer.WriteFrame(_audioTrack, opus, (uint)(millis * 48), nowMicros) > 0;
    }

    public void OnRemoved()
    {
        if (_peer.State != PeerState.Closed)
            _peer.Close(_now);
        _feed.Detach(this);
        string why = CloseReason ?? "removed";
        _state = "closed";
        _peer.Dispose();
        OnClosed?.Invoke(this, why);
    }

    /// <summary>From an HTTP thread: counters read without a lock (figures for a status page, not exact).</summary>
    public void WriteJson(Utf8JsonWriter w, long nowMicros)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("stream", Stream);
        w.WriteString("signaling", Signaling);
        w.WriteString("role", "player");
        w.WriteString("source", "rtmp-pull");
        if (_videoTrack >= 0)
            w.WriteString("videoCodec", IsVp8 ? "VP8" : "H264");
        w.WriteString("state", _state);
        w.WriteNumber("uptimeSeconds", Math.Round((nowMicros - CreatedMicros) / 1e6, 1));
        w.WriteNumber("videoFramesSent", Volatile.Read(ref VideoFramesSent));
        w.WriteNumber("audioFramesSent", Volatile.Read(ref AudioFramesSent));
        w.WriteNumber("droppedBeforeKeyframe", Volatile.Read(ref DroppedBeforeKeyframe));
        w.WriteNumber("gopReplays", Volatile.Read(ref Replays));
        if (_peer.TargetBps >= 0) w.WriteNumber("targetBps", _peer.TargetBps); else w.WriteNull("targetBps");
        PlaySession.WritePacerJson(w, _peer.Pacer != null, _peer.PacerQueueMicros, _peer.PacerDropped, _peer.ProbesSent, _peer.ProbePaddingSent,
            _peer.VideoPaused, _peer.Counters.VideoPauses);
        w.WriteEndObject();
    }
}
