using System.Text.Json;
using Engine.Host.Peers;
using Engine.Host.Sessions;
using Engine.Host.Transport;
using Engine.Ice;

namespace Engine.Host.Playback;

/// <summary>
/// One player of a stream published here (WHEP): a send-only <see cref="Peer"/> (ICE-lite, DTLS
/// server) on the media loop, fed by its <see cref="PublishSession"/> with the publisher's RTP.
/// It joins its publisher on the loop thread at its first timer; its video starts at the
/// publisher's next keyframe, which it asks for when it connects. Loop thread only, except
/// <see cref="RequestClose"/> and <see cref="WriteJson"/> (which reads only a published snapshot).
/// </summary>
public sealed class PlaySession : IMediaSession
{
    private const long StatusIntervalMicros = 250_000;

    private readonly Peer _peer;
    private readonly PublishSession _publisher;
    private readonly PlayTrack[] _tracks;
    /// <summary>Send track fed by each publisher track, -1 for none.</summary>
    private readonly int[] _sendTrackOf;
    private readonly int _videoSource = -1;
    /// <summary>Video frames sent per send track (marker bits of newer timestamps), for the console's frame rate.</summary>
    private readonly long[] _framesSent;
    private readonly uint[] _lastFrameTimestamp;
    private bool _attached;
    private bool _waitingForKeyframe = true;
    private volatile bool _closeRequested;
    private volatile string? _closeReason;
    private long _now;
    private PlayStatus _status;
    private long _nextStatusMicros;

    public PlaySession(string id, string stream, string signaling, PublishSession publisher, PeerConfig config, IReadOnlyList<PlayTrack> tracks, long nowMicros)
    {
        Id = id;
        Stream = stream;
        Signaling = signaling;
        LocalUfrag = config.LocalUfrag;
        CreatedMicros = nowMicros;
        _publisher = publisher;
        _tracks = tracks.ToArray();
        _sendTrackOf = new int[publisher.Tracks.Count];
        _framesSent = new long[_tracks.Length];
        _lastFrameTimestamp = new uint[_tracks.Length];
        Array.Fill(_sendTrackOf, -1);
        for (int i = 0; i < _tracks.Length; i++)
        {
            _sendTrackOf[_tracks[i].PublisherTrack] = i;
            if (_tracks[i].Kind == MediaKind.Video)
                _videoSource = _tracks[i].PublisherTrack;
        }
        _peer = new Peer(config, nowMicros);
        _now = nowMicros;
        _status = Snapshot();
        _nextStatusMicros = nowMicros + StatusIntervalMicros;
    }

    public string Id { get; }
    public string Stream { get; }
    public string Signaling { get; }
    public string LocalUfrag { get; }
    public long CreatedMicros { get; }
    public Peer Peer => _peer;
    public IReadOnlyList<PlayTrack> Tracks => _tracks;
    public bool WaitingForKeyframe => _waitingForKeyframe;
    /// <summary>Video packets dropped while waiting for the first keyframe.</summary>
    public long DroppedBeforeKeyframe { get; private set; }
    /// <summary>Video packets dropped while the peer's video was paused (its target under <see cref="Peer.VideoPauseBps"/>).</summary>
    public long DroppedWhilePaused { get; private set; }
    public string? CloseReason => _closeReason ?? _peer.CloseReason;
    /// <summary>The last snapshot the media thread published (any thread: immutable).</summary>
    internal PlayStatus Status => Volatile.Read(ref _status);

    /// <summary>Raised on the media thread after the session left the loop, with the reason.</summary>
    public Action<PlaySession, string>? OnClosed { get; set; }

    public NetAddress? SelectedRemote => _peer.Route;
    public bool IsClosed => _peer.State == PeerState.Closed;

    public long NextTimeoutMicros => !_attached || (_closeRequested && _peer.State != PeerState.Closed) ? 0 : _peer.NextTimeoutMicros;

    /// <summary>Thread-safe: ends the player at its next timer (BYE and close_notify).</summary>
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
        PublishStatus(nowMicros, timer: false);
    }

    public void HandleTimeout(long nowMicros)
    {
        _now = nowMicros;
        if (!_attached)
        {
            _attached = true;
            if (!_publisher.AttachPlayer(this))
                RequestClose("the publisher left");
        }
        if (_closeRequested)
            _peer.Close(nowMicros);
        else
            _peer.HandleTimeout(nowMicros);
        DrainEvents(nowMicros);
        PublishStatus(nowMicros, timer: true);
    }

    public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to) => _peer.TryPollTransmit(destination, out length, out to);

    /// <summary>
    /// Packet <paramref name="id"/> of publisher track <paramref name="publisherTrack"/>, stored once
    /// in the track's <paramref name="history"/>; video waits for a keyframe start. Called by the
    /// publisher on the loop thread; allocates nothing.
    /// </summary>
    public void Forward(int publisherTrack, Engine.Rtp.Send.SharedPacketHistory history, long id, bool keyframeStart, long nowMicros)
    {
        if ((uint)publisherTrack >= (uint)_sendTrackOf.Length || _sendTrackOf[publisherTrack] is not (>= 0 and var sendTrack)
            || _peer.State != PeerState.Connected)
            return;
        if (publisherTrack == _videoSource && _peer.VideoPaused)
        {
            // The path cannot carry video now: when it resumes (the peer asks the publisher for a keyframe) it starts at one.
            _waitingForKeyframe = true;
            DroppedWhilePaused++;
            return;
        }
        if (publisherTrack == _videoSource && _waitingForKeyframe)
        {
            if (!keyframeStart)
            {
                DroppedBeforeKeyframe++;
                return;
            }
            _waitingForKeyframe = false;
        }
        _now = nowMicros;
        _peer.WriteRtp(sendTrack, history, id, nowMicros);
        if (publisherTrack == _videoSource)
        {
            var header = history.GetHeader(id); // the source's fixed header: marker and timestamp as the publisher sent them
            if (header.Length >= 8 && (header[1] & 0x80) != 0)
                CountFrame(sendTrack, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.Slice(4)));
        }
    }

    // RFC 6184 §5.1, RFC 7741 §4.1: the marker ends a frame. Only a newer timestamp counts (RFC 3550 §5.1
    // serial order): the publisher's RTX probes re-send old packets, markers included.
    private void CountFrame(int sendTrack, uint timestamp)
    {
        if (_framesSent[sendTrack] > 0 && (int)(timestamp - _lastFrameTimestamp[sendTrack]) <= 0)
            return;
        _lastFrameTimestamp[sendTrack] = timestamp;
        _framesSent[sendTrack]++;
    }

    /// <summary>True when this player still needs a keyframe on <paramref name="publisherTrack"/> (the publisher skips detection otherwise).</summary>
    public bool NeedsKeyframe(int publisherTrack) => publisherTrack == _videoSource && _waitingForKeyframe && _peer.State == PeerState.Connected;

    /// <summary>The publisher left: end at the next timer.</summary>
    public void OnPublisherLeft() => RequestClose("the publisher left");

    private void DrainEvents(long nowMicros)
    {
        for (int i = 0; i < 1024 && _peer.TryPollEvent(out var ev); i++)
        {
            switch (ev.Kind)
            {
                case PeerEventKind.Connected:
                    _waitingForKeyframe = _videoSource >= 0;
                    if (_waitingForKeyframe)
                        _publisher.RequestKeyframe(nowMicros);
                    break;
                case PeerEventKind.KeyframeRequested:
                    _publisher.RequestKeyframe(nowMicros);
                    break;
            }
        }
    }

    public void OnRemoved()
    {
        if (_peer.State != PeerState.Closed)
            _peer.Close(_now);
        _publisher.DetachPlayer(this);
        string why = CloseReason ?? "removed";
        Volatile.Write(ref _status, Snapshot());
        _peer.Dispose();
        OnClosed?.Invoke(this, why);
    }

    private string StateName() => _peer.State switch
    {
        PeerState.Closed => "closed",
        PeerState.Connected => _waitingForKeyframe ? "waiting-keyframe" : "media",
        _ => _peer.Route != null ? "dtls" : "ice",
    };

    /// <summary>A new snapshot per tick (an allocation per 250 ms, never per packet), and at once when the state moves.</summary>
    private void PublishStatus(long nowMicros, bool timer)
    {
        if ((timer && nowMicros >= _nextStatusMicros) || !ReferenceEquals(StateName(), _status.State))
        {
            _nextStatusMicros = nowMicros + StatusIntervalMicros;
            Volatile.Write(ref _status, Snapshot());
        }
    }

    private PlayStatus Snapshot()
    {
        var tracks = new PlayStatus.Track[_tracks.Length];
        for (int i = 0; i < tracks.Length; i++)
        {
            var s = _peer.GetSendStream(i);
            var report = s.LastReportBlock;
            tracks[i] = new PlayStatus.Track(s.PacketsSent, s.PayloadOctetsSent, s.NacksReceived, s.Retransmitted, s.PlisReceived, s.FirsReceived,
                _framesSent[i], report.CumulativeLost, report.FractionLost);
        }
        var c = _peer.Counters;
        return new PlayStatus
        {
            State = StateName(),
            Remote = _peer.Route,
            Tracks = tracks,
            RttMicros = _peer.RttMicros,
            RtpSent = c.RtpSent,
            RtcpSent = c.RtcpSent,
            RtcpReceived = c.RtcpReceived,
            WritesRefused = c.WritesRefused,
            DroppedBeforeKeyframe = DroppedBeforeKeyframe,
            SrtpFailures = c.SrtpFailures,
            SimulatedLoss = c.SimulatedSendLoss,
            TargetBps = _peer.TargetBps,
            Paced = _peer.Pacer != null,
            PacerQueueMicros = _peer.PacerQueueMicros,
            PacerDropped = _peer.PacerDropped,
            ProbesSent = _peer.ProbesSent,
            ProbePaddingSent = _peer.ProbePaddingSent,
            VideoPaused = _peer.VideoPaused,
            VideoPauses = c.VideoPauses,
            DroppedWhilePaused = DroppedWhilePaused,
        };
    }

    /// <summary>The peer's pacer in /api/streams (players of a publisher and of a pull alike); null figures when the peer paces without a target.</summary>
    internal static void WritePacerJson(Utf8JsonWriter w, bool paced, long queueMicros, long dropped, long probes, long padding, bool videoPaused, long pauses)
    {
        if (!paced)
        {
            w.WriteNull("pacerQueueMs");
            w.WriteNull("pacerDropped");
            w.WriteNull("probesSent");
            w.WriteBoolean("videoPaused", false);
            return;
        }
        w.WriteNumber("pacerQueueMs", Math.Round(queueMicros / 1000.0, 1));
        w.WriteNumber("pacerDropped", dropped);
        w.WriteNumber("probesSent", probes);
        w.WriteNumber("probePaddingPackets", padding);
        w.WriteBoolean("videoPaused", videoPaused);
        w.WriteNumber("videoPauses", pauses);
    }

    /// <summary>This player's part of /api/streams, from an HTTP thread: only the last snapshot the media thread published is read.</summary>
    public void WriteJson(Utf8JsonWriter w, long nowMicros)
    {
        var snap = Volatile.Read(ref _status);
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("stream", Stream);
        w.WriteString("signaling", Signaling);
        w.WriteString("role", "player");
        w.WriteString("state", snap.State);
        if (snap.Remote is { } remote) w.WriteString("remote", remote.ToString()); else w.WriteNull("remote");
        w.WriteNumber("uptimeSeconds", Math.Round((nowMicros - CreatedMicros) / 1e6, 1));
        if (snap.TargetBps >= 0) w.WriteNumber("targetBps", snap.TargetBps); else w.WriteNull("targetBps");
        if (snap.RttMicros >= 0) w.WriteNumber("rttMs", Math.Round(snap.RttMicros / 1000.0, 2)); else w.WriteNull("rttMs");
        WritePacerJson(w, snap.Paced, snap.PacerQueueMicros, snap.PacerDropped, snap.ProbesSent, snap.ProbePaddingSent, snap.VideoPaused, snap.VideoPauses);
        w.WriteStartArray("tracks");
        for (int i = 0; i < _tracks.Length; i++)
        {
            var t = _tracks[i];
            var s = snap.Tracks[i];
            w.WriteStartObject();
            w.WriteString("mid", t.Mid);
            w.WriteString("kind", t.Kind == MediaKind.Video ? "video" : "audio");
            w.WriteString("codec", t.Codec);
            w.WriteNumber("ssrc", t.Ssrc);
            w.WriteNumber("packetsSent", s.PacketsSent);
            w.WriteNumber("bytesSent", s.BytesSent);
            w.WriteNumber("nacksReceived", s.NacksReceived);
            w.WriteNumber("retransmissions", s.Retransmissions);
            w.WriteNumber("plisReceived", s.PlisReceived);
            w.WriteNumber("firsReceived", s.FirsReceived);
            if (t.Kind == MediaKind.Video) w.WriteNumber("framesSent", s.FramesSent);
            w.WriteNumber("packetsLost", s.PacketsLost);
            w.WriteNumber("fractionLost", Math.Round(s.FractionLost / 256.0, 4));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("counters");
        w.WriteNumber("rtpSent", snap.RtpSent);
        w.WriteNumber("rtcpSent", snap.RtcpSent);
        w.WriteNumber("rtcpReceived", snap.RtcpReceived);
        w.WriteNumber("writesRefused", snap.WritesRefused);
        w.WriteNumber("droppedBeforeKeyframe", snap.DroppedBeforeKeyframe);
        w.WriteNumber("droppedWhilePaused", snap.DroppedWhilePaused);
        w.WriteNumber("srtpFailures", snap.SrtpFailures);
        w.WriteNumber("simulatedLoss", snap.SimulatedLoss); // [RTP] RTP_PLAY_LOSS
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
