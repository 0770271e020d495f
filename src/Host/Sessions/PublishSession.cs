using System.Text.Json;
using Engine.Dtls;
using Engine.Host.Peers;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Rtp;
using Engine.Rtp.Media;
using Engine.Srtp;

namespace Engine.Host.Sessions;

/// <summary>
/// One browser publishing to us: a receive-only <see cref="Peer"/> (ICE-lite, DTLS, SRTP, demux,
/// RTCP) behind <see cref="IMediaSession"/>, plus what is publish-specific: the frame sink, the
/// players fed with its RTP (and their keyframe requests, coalesced), the test loss knob, and the
/// status snapshot for /api/streams. No socket, thread or clock in here: the media loop drives it.
/// </summary>
public sealed class PublishSession : IMediaSession, IEncodedFrameSink, IPeerRtpObserver
{
    /// <summary>How often the timer path refreshes the status snapshot (a state change refreshes it at once).</summary>
    private const long StatusIntervalMicros = 250_000;

    private readonly Peer _peer;
    private readonly NegotiatedTrack[] _tracks;
    private readonly bool[] _videoPayloadType = new bool[128];
    private readonly IEncodedFrameSink _sink;
    private readonly IRtpPacketTap? _tap;
    private readonly BurstLoss? _loss;
    private readonly StreamWriter? _trace;
    private readonly List<Playback.PlaySession> _players = new();
    // Per track, what its players send: each packet stored once, each player keeps only its headers (made at the first player).
    private readonly Engine.Rtp.Send.SharedPacketHistory?[] _forwardHistory;
    private readonly Playback.KeyframeRequestCoalescer _keyframeRequests = new();
    private bool _mediaStarted;
    private bool _removed;
    private volatile bool _closed;
    private volatile bool _closeRequested;
    private volatile string? _closeReason;
    private long _now;
    private PublishStatus _status;
    private long _nextStatusMicros;

    public PublishSession(string id, string stream, string signaling, PublishNegotiation.Result negotiation, string localUfrag, string localPwd,
        DtlsCertificate certificate, IEncodedFrameSink sink, SessionOptions options, long nowMicros)
    {
        Id = id;
        Stream = stream;
        Signaling = signaling;
        LocalUfrag = localUfrag;
        CreatedMicros = nowMicros;
        _now = nowMicros;
        _sink = sink;
        _tap = sink as IRtpPacketTap;
        _tracks = negotiation.Tracks.ToArray();
        _forwardHistory = new Engine.Rtp.Send.SharedPacketHistory?[_tracks.Length];
        var fingerprint = negotiation.RemoteFingerprints.FirstOrDefault(f => f.Algorithm == "sha-256") ?? negotiation.RemoteFingerprints[0];
        if (!DtlsFingerprint.TryParse(fingerprint.ToString(), out var remoteFingerprint))
            throw new ArgumentException("unusable remote fingerprint: " + fingerprint);
        var receive = new PeerReceiveTrack[_tracks.Length];
        for (int i = 0; i < _tracks.Length; i++)
        {
            var t = _tracks[i];
            bool video = t.Kind == MediaKind.Video;
            // SSRCs are learned (MID, else payload type): an offer's a=ssrc lines are optional and may list layers.
            receive[i] = new PeerReceiveTrack
            {
                Mid = t.Mid,
                PayloadType = (byte)t.PayloadType,
                Codec = CodecOf(t.Codec),
                ClockRate = t.ClockRate,
                RtxPayloadType = t.RtxPayloadType,
                UseNack = video,
                UseFir = video && t.Fir,
            };
            if (video)
            {
                _videoPayloadType[t.PayloadType & 127] = true;
                if (t.RtxPayloadType >= 0)
                    _videoPayloadType[t.RtxPayloadType & 127] = true;
            }
        }
        // Debug: RTP_RECEIVE_TRACE=DIR writes DIR/<session id>.trace (see PeerConfig.ReceiveTrace).
        if (Environment.GetEnvironmentVariable("RTP_RECEIVE_TRACE") is { Length: > 0 } traceDir)
            _trace = new StreamWriter(Path.Combine(traceDir, id + ".trace")) { AutoFlush = true };
        _peer = new Peer(new PeerConfig
        {
            ReceiveTrace = _trace,
            Role = PeerRole.IceLiteServer,
            DtlsRole = negotiation.WeAreDtlsClient ? Engine.Dtls.DtlsRole.Client : Engine.Dtls.DtlsRole.Server,
            LocalUfrag = localUfrag,
            LocalPwd = localPwd,
            RemoteUfrag = negotiation.RemoteUfrag,
            RemotePwd = negotiation.RemotePwd,
            Certificate = certificate,
            RemoteFingerprint = remoteFingerprint!,
            ReceiveTracks = receive,
            MidExtensionId = negotiation.ExtensionIds.GetValueOrDefault(PublishNegotiation.MidUri),
            TransportCcExtensionId = negotiation.ExtensionIds.GetValueOrDefault(PublishNegotiation.TransportCcUri),
            AbsSendTimeExtensionId = negotiation.ExtensionIds.GetValueOrDefault(PublishNegotiation.AbsSendTimeUri),
            PliIntervalMicros = options.PliIntervalMicros,
            // RTP_AUTO_BITRATE=1: REMB from the receive-side estimate within [min, max]; the fixed cap only when the
            // offer has no abs-send-time to estimate from. It starts at the cap, as the fixed REMB did, until over-use.
            RembBps = options.AutoBitrate ? options.MaxVideoBps : 0,
            ReceiveEstimator = options.AutoBitrate
                ? new Engine.Gcc.ReceiveSideEstimatorOptions(options.MinVideoBps, options.MaxVideoBps, options.MaxVideoBps)
                : null,
            FrameSink = this,
            RtpObserver = this,
            TransmitSlots = 24, // control only (RTCP, the handshake): 24 x 1500 B, as before the Peer
            EventCapacity = 16, // frames go to the sink; only Connected and Closed are events
        }, nowMicros);
        if (options.SimulateLoss)
            _loss = new BurstLoss(options.LossSeed ?? Random.Shared.Next());
        _status = Snapshot();
        _nextStatusMicros = nowMicros + StatusIntervalMicros;
    }

    public string Id { get; }
    public string Stream { get; }
    public string Signaling { get; }
    public string LocalUfrag { get; }
    public long CreatedMicros { get; }
    public IReadOnlyList<NegotiatedTrack> Tracks => _tracks;
    /// <summary>The composed peer; loop thread only.</summary>
    public Peer Peer => _peer;
    public NetAddress? SelectedRemote => _peer.Route;
    /// <summary>True once the peer ended (set on the loop thread; safe to read anywhere).</summary>
    public bool IsClosed => _closed;
    public string? CloseReason => _closeReason;
    public DtlsState DtlsState => _peer.Dtls.State;
    public bool MediaStarted => _mediaStarted;
    /// <summary>The last measured round-trip time (XR DLRR), or -1; loop thread.</summary>
    public long RttMicros => _peer.RttMicros;
    /// <summary>Packets the [RTP] RTP_TEST loss knob dropped; loop thread.</summary>
    public long SimulatedLoss => _loss?.Dropped ?? 0;

    /// <summary>Raised on the media thread at the first frame.</summary>
    public Action<PublishSession>? OnMediaStarted { get; set; }
    /// <summary>Raised on the media thread after the session left the loop, with the reason.</summary>
    public Action<PublishSession, string>? OnClosed { get; set; }

    /// <summary>Marks a session for the loop to flush in this batch (the loop's own, loop thread only): players touched by a forwarded packet, this one after a keyframe request.</summary>
    public Action<IMediaSession>? MarkDirty { get; set; }

    /// <summary>Players on the loop; read from other threads only as a count.</summary>
    public int PlayerCount => _players.Count;
    public Playback.KeyframeRequestCoalescer KeyframeRequests => _keyframeRequests;

    /// <summary>The last snapshot the media thread published (any thread: immutable).</summary>
    internal PublishStatus Status => Volatile.Read(ref _status);
    /// <summary>The frame sink, for its outputs' status (<see cref="ISinkStatus"/>: safe on any thread).</summary>
    internal IEncodedFrameSink Sink => _sink;

    /// <summary>Loop thread: a player joins; false when this session already left the loop.</summary>
    public bool AttachPlayer(Playback.PlaySession player)
    {
        if (_removed || _closed || _closeRequested)
            return false;
        for (int i = 0; i < _tracks.Length; i++)
            _forwardHistory[i] ??= new Engine.Rtp.Send.SharedPacketHistory(_tracks[i].Kind == MediaKind.Video ? 1024 : 128,
                Peer.MaxSendPacketSize - RtpPacketView.FixedHeaderLength); // at least each player's own history (1024 video, 64 audio)
        _players.Add(player);
        return true;
    }

    /// <summary>The shared send history of <paramref name="track"/> (null before the first player); loop thread.</summary>
    public Engine.Rtp.Send.SharedPacketHistory? GetForwardHistory(int track) => _forwardHistory[track];

    /// <summary>Loop thread.</summary>
    public void DetachPlayer(Playback.PlaySession player) => _players.Remove(player);

    /// <summary>Loop thread: a player joined or asked for a keyframe; requests coalesce to one per 500 ms.</summary>
    public void RequestKeyframe(long nowMicros)
    {
        if (_removed || !_keyframeRequests.TryRequest(nowMicros))
            return;
        RequestVideoKeyframes();
        MarkDirty?.Invoke(this);
    }

    private void RequestVideoKeyframes()
    {
        for (int i = 0; i < _tracks.Length; i++)
            if (_tracks[i].Kind == MediaKind.Video)
                _peer.RequestKeyframe(i);
    }

    /// <summary>Thread-safe: the signaling side hangs up; the loop ends the peer (BYE, close_notify) at its next wake-up.</summary>
    public void RequestClose(string reason)
    {
        _closeReason ??= reason;
        _closeRequested = true;
    }

    public long NextTimeoutMicros
    {
        get
        {
            if (_closed)
                return long.MaxValue;
            if (_closeRequested)
                return 0;
            return _peer.NextTimeoutMicros;
        }
    }

    public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros) => HandleDatagram(datagram, from, nowMicros, nowMicros);

    public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros, long arrivalMicros)
    {
        _now = nowMicros;
        if (_closed)
            return;
        // RTP_TEST: bursts lost "on the wire", before SRTP, as the legacy gateway simulated them.
        if (_loss != null && _peer.State == PeerState.Connected && DatagramDemux.Classify(datagram) == DatagramKind.Rtp
            && RtpPacketView.TryRead(datagram, out var clear) && _loss.ShouldDrop(_videoPayloadType[clear.PayloadType & 127]))
            return;
        _peer.HandleDatagram(datagram, from, nowMicros, arrivalMicros);
        AfterPeer(nowMicros, timer: false);
    }

    public void HandleTimeout(long nowMicros)
    {
        _now = nowMicros;
        if (_closed)
            return;
        if (_closeRequested)
            _peer.Close(nowMicros); // BYE and close_notify, drained by the loop before it forgets us
        else
        {
            if (_sink.TakeKeyframeRequest())
                RequestVideoKeyframes(); // before the peer's RTCP pass, so the PLI leaves now
            _peer.HandleTimeout(nowMicros);
        }
        AfterPeer(nowMicros, timer: true);
    }

    public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to) => _peer.TryPollTransmit(destination, out length, out to);

    /// <summary>The receive-only peer raises only Connected and Closed (frames go to <see cref="IEncodedFrameSink.OnFrame"/>).</summary>
    private void AfterPeer(long nowMicros, bool timer)
    {
        for (int i = 0; i < 64 && _peer.TryPollEvent(out var ev); i++)
            if (ev.Kind == PeerEventKind.Closed)
                _closeReason ??= ev.Reason == "DTLS failed" ? $"DTLS failed: {_peer.Dtls.FailureReason}" : ev.Reason;
        if (_peer.State == PeerState.Closed && !_closed)
        {
            _closeReason ??= _peer.CloseReason ?? "closed";
            _closed = true;
        }
        // A snapshot per tick (an allocation per 250 ms, never per packet), and at once when the state moves.
        if ((timer && nowMicros >= _nextStatusMicros) || !ReferenceEquals(StateName(), _status.State))
        {
            _nextStatusMicros = nowMicros + StatusIntervalMicros;
            Volatile.Write(ref _status, Snapshot());
        }
    }

    // IPeerRtpObserver: every demuxed packet, RTX already unwrapped, before the receive stream.
    void IPeerRtpObserver.OnRtpReceived(int track, ReadOnlySpan<byte> rtp, in RtpPacketView packet, long nowMicros)
    {
        _tap?.OnRtpPacket(track, rtp);
        if (_players.Count > 0)
            Forward(track, rtp, packet, nowMicros);
    }

    private void Forward(int track, ReadOnlySpan<byte> rtp, in RtpPacketView packet, long nowMicros)
    {
        if (_forwardHistory[track] is not { } history)
            return;
        long id = history.Store(rtp); // once for all players
        if (id < 0)
            return;
        bool keyframeStart = false, detected = false;
        for (int i = 0; i < _players.Count; i++)
        {
            var player = _players[i];
            if (!detected && player.NeedsKeyframe(track))
            {
                keyframeStart = Playback.KeyframeDetector.IsKeyframeStart(_tracks[track].Codec, packet.Payload);
                detected = true;
            }
            player.Forward(track, history, id, keyframeStart, nowMicros);
            MarkDirty?.Invoke(player);
        }
    }

    public void OnRemoved()
    {
        _removed = true;
        foreach (var player in _players)
        {
            player.OnPublisherLeft();
            MarkDirty?.Invoke(player);
        }
        if (_peer.State != PeerState.Closed)
            _peer.Close(_now); // flushed by the loop right after this call
        _closeReason ??= _peer.CloseReason ?? "removed";
        _closed = true;
        try
        {
            _sink.OnEnd();
        }
        finally
        {
            Volatile.Write(ref _status, Snapshot());
            _peer.Dispose();
            _trace?.Dispose();
            OnClosed?.Invoke(this, _closeReason);
        }
    }

    // IEncodedFrameSink: frames of the peer's receive streams pass through to the real sink.
    void IEncodedFrameSink.OnFrame(int trackIndex, in EncodedFrame frame)
    {
        if (!_mediaStarted)
        {
            _mediaStarted = true;
            OnMediaStarted?.Invoke(this);
        }
        _sink.OnFrame(trackIndex, frame);
    }

    void IEncodedFrameSink.OnEnd() { }

    private static MediaCodec CodecOf(string name) => name switch
    {
        "H264" => MediaCodec.H264,
        "VP8" => MediaCodec.Vp8,
        "VP9" => MediaCodec.Vp9,
        _ => MediaCodec.Opus,
    };

    private string StateName() =>
        _closed ? "closed" : _peer.State == PeerState.Connected ? (_mediaStarted ? "media" : "connected") : _peer.Route != null ? "dtls" : "ice";

    /// <summary>Media thread: copies what /api/streams shows into a new immutable snapshot.</summary>
    private PublishStatus Snapshot()
    {
        var tracks = new PublishStatus.Track[_tracks.Length];
        for (int i = 0; i < tracks.Length; i++)
        {
            var s = _peer.GetReceiveStream(i);
            var st = s.Statistics;
            tracks[i] = new PublishStatus.Track(_peer.GetReceiveSsrc(i), st.PacketsReceived, st.BytesReceived, s.Frames, s.Keyframes, s.FramesDropped,
                s.Width, s.Height, s.NacksSent, s.NackRecovered, s.PlisSent, st.CumulativeLost, st.JitterMillis, s.SenderReportsRejected,
                s.H264Profile, _peer.GetReceiveRtxSsrc(i));
        }
        var videoDrops = new long[PublishStatus.VideoDropReasons.Length];
        for (int i = 0; i < tracks.Length; i++)
            for (int r = 0; r < videoDrops.Length; r++)
                videoDrops[r] += _peer.GetReceiveStream(i).FramesDroppedFor(PublishStatus.VideoDropReasons[r]);
        var c = _peer.Counters;
        var ice = _peer.IceLite!.Counters;
        var dtls = _peer.Dtls.Counters;
        return new PublishStatus
        {
            State = StateName(),
            Remote = _peer.Route,
            SrtpProfile = _peer.State == PeerState.Connected ? (SrtpProfile)_peer.Dtls.SrtpProfile : null,
            RttMicros = _peer.RttMicros,
            RembBps = _peer.LastRembSentBps,
            Tracks = tracks,
            RtpPackets = c.RtpReceived,
            RtxPackets = c.RtxReceived,
            RtxPadding = c.RtxPadding,
            RtcpPackets = c.RtcpReceived,
            RtcpSent = c.RtcpSent,
            DroppedWrongPath = c.DroppedWrongPath,
            DroppedUnknown = c.DroppedUnknown,
            DroppedMalformed = c.DroppedMalformed,
            DroppedUnknownSsrc = c.DroppedUnknownSsrc,
            DroppedSecondSsrc = c.DroppedSecondSsrc,
            DroppedRtxBeforeMedia = c.DroppedRtxBeforeMedia,
            SrtpAuthFailed = c.SrtpAuthFailed,
            SrtpReplayed = c.SrtpReplayed,
            SrtpOther = c.SrtpFailures - c.SrtpAuthFailed - c.SrtpReplayed,
            SimulatedLoss = _loss?.Dropped,
            IceChecks = ice[IceCheckResult.Answered],
            IceBadIntegrity = ice[IceCheckResult.BadIntegrity],
            IceWrongUsername = ice[IceCheckResult.WrongUsername],
            DtlsRecordsDropped = dtls.RecordsDroppedMalformed + dtls.RecordsDroppedBadMac + dtls.RecordsDroppedReplay,
            TransmitDropped = _peer.TransmitDropped,
            VideoDrops = videoDrops,
            FirsSent = c.FirsSent,
        };
    }

    /// <summary>
    /// This session's part of /api/streams, from an HTTP thread: everything but the sink's status
    /// comes from the last snapshot the media thread published (at most ~250 ms old).
    /// </summary>
    public void WriteJson(Utf8JsonWriter w, long nowMicros)
    {
        var snap = Volatile.Read(ref _status);
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("stream", Stream);
        w.WriteString("signaling", Signaling);
        w.WriteString("state", _closed ? "closed" : snap.State);
        if (snap.Remote is { } remote) w.WriteString("remote", remote.ToString()); else w.WriteNull("remote");
        w.WriteNumber("uptimeSeconds", Math.Round((nowMicros - CreatedMicros) / 1e6, 1));
        if (snap.SrtpProfile is { } profile) w.WriteString("srtpProfile", profile.ToString());
        if (snap.RembBps >= 0) w.WriteNumber("rembBps", snap.RembBps); else w.WriteNull("rembBps");
        w.WriteStartArray("tracks");
        for (int i = 0; i < _tracks.Length; i++)
        {
            var t = _tracks[i];
            var s = snap.Tracks[i];
            w.WriteStartObject();
            w.WriteString("mid", t.Mid);
            w.WriteString("kind", t.Kind == MediaKind.Video ? "video" : "audio");
            w.WriteString("codec", t.Codec);
            if (s.H264Profile != null) w.WriteString("h264Profile", s.H264Profile);
            w.WriteNumber("ssrc", s.Ssrc);
            if (t.RtxPayloadType >= 0) w.WriteNumber("rtxSsrc", s.RtxSsrc);
            w.WriteNumber("packets", s.Packets);
            w.WriteNumber("bytes", s.Bytes);
            w.WriteNumber("frames", s.Frames);
            if (t.Kind == MediaKind.Video)
            {
                w.WriteNumber("keyframes", s.Keyframes);
                w.WriteNumber("framesDropped", s.FramesDropped);
                w.WriteNumber("width", s.Width);
                w.WriteNumber("height", s.Height);
                w.WriteNumber("nacksSent", s.NacksSent);
                w.WriteNumber("nackRecovered", s.NackRecovered);
                w.WriteNumber("plisSent", s.PlisSent);
            }
            w.WriteNumber("packetsLost", s.PacketsLost);
            w.WriteNumber("jitterMs", Math.Round(s.JitterMillis, 2));
            w.WriteNumber("senderReportsRejected", s.SenderReportsRejected);
            if (snap.RttMicros >= 0) w.WriteNumber("rttMs", Math.Round(snap.RttMicros / 1000.0, 2)); else w.WriteNull("rttMs");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (_sink is ISinkStatus status)
        {
            w.WritePropertyName("outputs");
            Engine.Host.Media.SinkStatusJson.Write(w, status);
        }
        w.WriteStartObject("counters");
        w.WriteNumber("rtpPackets", snap.RtpPackets);
        w.WriteNumber("rtxPackets", snap.RtxPackets);
        w.WriteNumber("rtxPadding", snap.RtxPadding);
        w.WriteNumber("rtcpPackets", snap.RtcpPackets);
        w.WriteNumber("rtcpSent", snap.RtcpSent);
        w.WriteNumber("droppedWrongPath", snap.DroppedWrongPath);
        w.WriteNumber("droppedUnknown", snap.DroppedUnknown);
        w.WriteNumber("droppedMalformed", snap.DroppedMalformed);
        w.WriteNumber("droppedUnknownSsrc", snap.DroppedUnknownSsrc);
        w.WriteNumber("droppedSecondSsrc", snap.DroppedSecondSsrc);
        w.WriteNumber("droppedRtxBeforeMedia", snap.DroppedRtxBeforeMedia);
        w.WriteNumber("srtpAuthFailed", snap.SrtpAuthFailed);
        w.WriteNumber("srtpReplayed", snap.SrtpReplayed);
        w.WriteNumber("srtpOther", snap.SrtpOther);
        if (snap.SimulatedLoss is { } lost) w.WriteNumber("simulatedLoss", lost);
        w.WriteNumber("iceChecks", snap.IceChecks);
        w.WriteNumber("iceBadIntegrity", snap.IceBadIntegrity);
        w.WriteNumber("iceWrongUsername", snap.IceWrongUsername);
        w.WriteNumber("dtlsRecordsDropped", snap.DtlsRecordsDropped);
        w.WriteNumber("transmitDropped", snap.TransmitDropped);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
