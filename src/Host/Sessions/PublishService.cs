using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Engine.Dtls;
using Engine.Host.Config;
using Engine.Host.Logging;
using Engine.Host.Media;
using Engine.Host.Transport;
using Engine.Rtp.Media;
using Engine.Rtp.Sdp;

namespace Engine.Host.Sessions;

/// <summary>
/// Creates, finds and ends publish sessions for the signaling front-ends; runs them on the media
/// loop. Negotiation happens on the caller's thread; everything per packet happens on the loop.
/// </summary>
public sealed class PublishService : IPublishService
{
    private readonly EngineConfig _config;
    private readonly MediaLoop _loop;
    private readonly DtlsCertificate _certificate;
    private readonly SdpFingerprint _fingerprint;
    private readonly Func<SinkRequest, IEncodedFrameSink> _sinkFactory;
    private readonly ConcurrentDictionary<string, PublishSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _streamOwners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Playback.PlaySession> _players = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Pull.PullPlayer> _pullPlayers = new(StringComparer.Ordinal);
    private readonly Pull.RtmpPullService _pulls;
    private readonly Lock _admission = new();
    private volatile bool _shuttingDown;

    public PublishService(EngineConfig config, MediaLoop loop, DtlsCertificate certificate, Func<SinkRequest, IEncodedFrameSink>? sinkFactory = null)
    {
        _config = config;
        _loop = loop;
        _certificate = certificate;
        _fingerprint = new SdpFingerprint("sha-256", certificate.Fingerprint.Value.ToArray());
        _sinkFactory = sinkFactory ?? (_ => new NullFrameSink());
        _pulls = new Pull.RtmpPullService(config, loop);
    }

    public int SessionCount => _sessions.Count;

    // For /metrics: what ended sessions counted, folded in as each leaves the dictionaries, both
    // under MetricsLock, so a scrape sees a session live or retired, never both nor neither.
    internal readonly Lock MetricsLock = new();
    internal readonly Metrics.MediaTotals Retired = new();
    private readonly List<Engine.Rtp.Media.SinkOutputStatus> _retireScratch = new();
    internal IEnumerable<KeyValuePair<string, PublishSession>> Sessions => _sessions;

    /// <summary>Moves an ended session from the live set to <see cref="Retired"/> under MetricsLock.</summary>
    /// <remarks>Sessions end on the media thread, and a scrape holds the lock while it sums every
    /// session: when it is busy the move waits on the thread pool instead of the media thread.</remarks>
    internal void Retire(Action retire)
    {
        if (MetricsLock.TryEnter())
        {
            try { retire(); }
            finally { MetricsLock.Exit(); }
            return;
        }
        Interlocked.Increment(ref RetiresDeferred);
        ThreadPool.UnsafeQueueUserWorkItem(r => { lock (MetricsLock) r(); }, retire, preferLocal: false);
    }

    /// <summary>Retirements that found a scrape holding the lock and ran on the thread pool.</summary>
    internal long RetiresDeferred;
    internal IEnumerable<KeyValuePair<string, Playback.PlaySession>> Players => _players;
    internal IEnumerable<KeyValuePair<string, Pull.PullPlayer>> PullPlayers => _pullPlayers;
    internal Pull.RtmpPullService Pulls => _pulls;
    internal MediaLoop Loop => _loop;

    public PublishSession? Find(string id) => _sessions.GetValueOrDefault(id);

    public PublishOutcome Publish(PublishRequest request)
    {
        if (_shuttingDown)
            return PublishOutcome.Fail(PublishError.ShuttingDown, "the server is stopping");
        if (!SessionDescription.TryParse(request.OfferSdp, out var offer, out var sdpError))
            return PublishOutcome.Fail(PublishError.BadSdp, "bad SDP offer: " + sdpError);
        string ufrag = RandomToken(8), pwd = RandomToken(24);
        var local = new PublishNegotiation.LocalParameters(ufrag, pwd, _fingerprint, CandidateAddress(request.LocalAddress), _loop.LocalEndPoint.Port,
            (ulong)Random.Shared.NextInt64(1, long.MaxValue));
        if (!PublishNegotiation.TryAnswer(offer, local, out var negotiation, out var reason))
            return PublishOutcome.Fail(PublishError.UnsupportedOffer, reason);

        string id = RandomToken(16);
        PublishSession session;
        lock (_admission)
        {
            if (_shuttingDown)
                return PublishOutcome.Fail(PublishError.ShuttingDown, "the server is stopping");
            if (_sessions.Count + _players.Count >= _config.WebRtcMaxClient)
                return PublishOutcome.Fail(PublishError.NoFreeSession, $"no free session (WEBRTCMAXCLIENT={_config.WebRtcMaxClient})");
            if (!_streamOwners.TryAdd(request.Stream, id))
                return PublishOutcome.Fail(PublishError.StreamBusy, $"stream '{request.Stream}' is already being published");
            try
            {
                session = new PublishSession(id, request.Stream, request.Signaling, negotiation!, ufrag, pwd, _certificate,
                    _sinkFactory(new SinkRequest(request.Stream, id, request.Record, negotiation!.Tracks.Select(TrackInfoOf).ToArray())), SessionOptions.From(_config), MediaLoop.NowMicros());
            }
            catch (ArgumentException e)
            {
                _streamOwners.TryRemove(request.Stream, out _);
                return PublishOutcome.Fail(PublishError.UnsupportedOffer, e.Message);
            }
            _sessions[id] = session;
        }
        session.MarkDirty = _loop.MarkDirty;
        session.OnMediaStarted = s =>
        {
            Log.Notice($"session {s.Id} stream '{s.Stream}': media flowing");
            request.OnMediaStarted?.Invoke(s.Id);
        };
        session.OnClosed = (s, why) =>
        {
            Retire(() =>
            {
                if (_sessions.TryRemove(s.Id, out _))
                    Retired.AddPublish(s.Status, s.Tracks, s.Sink, _retireScratch);
            });
            _streamOwners.TryRemove(new KeyValuePair<string, string>(s.Stream, s.Id));
            Log.Notice($"session {s.Id} stream '{s.Stream}' ended: {why}");
            if (!why.StartsWith("signaling:", StringComparison.Ordinal))
                request.OnEnded?.Invoke(s.Id, why);
        };
        _loop.Add(session);
        Log.Notice($"session {id} stream '{request.Stream}' via {request.Signaling}: {string.Join(", ", negotiation!.Tracks.Select(t => t.Kind + " " + t.Codec))}");
        string? rtmpUrl = StreamSinkFactory.RtmpUrl(_config, request.Stream);
        string answer = negotiation.Answer.Write();
        if (Log.IsEnabled(LogLevel.Debug))
            Log.Debug($"session {id} offer:\n{request.OfferSdp.TrimEnd()}\nanswer:\n{answer.TrimEnd()}");
        return PublishOutcome.Ok(id, answer, rtmpUrl);
    }

    public int PlayerCount => _players.Count + _pullPlayers.Count;

    public Playback.PlaySession? FindPlayer(string id) => _players.GetValueOrDefault(id);

    public PublishOutcome Play(Playback.PlayRequest request)
    {
        if (_shuttingDown)
            return PublishOutcome.Fail(PublishError.ShuttingDown, "the server is stopping");
        if (!SessionDescription.TryParse(request.OfferSdp, out var offer, out var sdpError))
            return PublishOutcome.Fail(PublishError.BadSdp, "bad SDP offer: " + sdpError);
        var publisher = _streamOwners.TryGetValue(request.Stream, out var ownerId) ? _sessions.GetValueOrDefault(ownerId) : null;
        if ((publisher == null || publisher.IsClosed) && _pulls.BaseUrl(request.ServerId) != null)
            return PlayPulled(request, offer!);
        if (publisher == null || publisher.IsClosed)
            return PublishOutcome.Fail(PublishError.NoSuchStream, $"stream '{request.Stream}' is not being published here");
        string ufrag = RandomToken(8), pwd = RandomToken(24);
        if (!TryNegotiatePlay(request, offer!, publisher.Tracks, ufrag, pwd, forwardOnly: true, out var negotiation, out var config, out var failure))
            return failure;
        string id = RandomToken(16);
        Playback.PlaySession player;
        lock (_admission)
        {
            if (_shuttingDown)
                return PublishOutcome.Fail(PublishError.ShuttingDown, "the server is stopping");
            if (_sessions.Count + _players.Count + _pullPlayers.Count >= _config.WebRtcMaxClient)
                return PublishOutcome.Fail(PublishError.NoFreeSession, $"no free session (WEBRTCMAXCLIENT={_config.WebRtcMaxClient})");
            player = new Playback.PlaySession(id, request.Stream, request.Signaling, publisher, config, negotiation.Tracks, MediaLoop.NowMicros());
            _players[id] = player;
        }
        player.OnClosed = (p, why) =>
        {
            Retire(() =>
            {
                if (_players.TryRemove(p.Id, out _))
                    Retired.AddPlay(p.Status, p.Tracks);
            });
            Log.Notice($"player {p.Id} stream '{p.Stream}' ended: {why}");
            if (!why.StartsWith("signaling:", StringComparison.Ordinal))
                request.OnEnded?.Invoke(p.Id, why);
        };
        _loop.Add(player);
        Log.Notice($"player {id} stream '{request.Stream}' via {request.Signaling}: {string.Join(", ", negotiation.Tracks.Select(t => t.Kind + " " + t.Codec))}");
        string answer = negotiation.Answer.Write();
        if (Log.IsEnabled(LogLevel.Debug))
            Log.Debug($"player {id} offer:\n{request.OfferSdp.TrimEnd()}\nanswer:\n{answer.TrimEnd()}");
        return PublishOutcome.Ok(id, answer, null);
    }

    /// <summary>A stream not published here, pulled over RTMP (one pull per stream for all its players).</summary>
    private PublishOutcome PlayPulled(Playback.PlayRequest request, SessionDescription offer)
    {
        var feed = _pulls.Acquire(request.Stream, request.ServerId, out string why);
        if (feed == null)
            return PublishOutcome.Fail(PublishError.NoSuchStream, why);
        var pull = feed.Pull;
        var published = new List<NegotiatedTrack>();
        if (pull.HasVideo && !pull.VideoDropped)
            published.Add(new NegotiatedTrack("v", MediaKind.Video, "H264", 96, 90000, 0, pull.ProfileLevelId, []));
        if (pull.HasAudio && pull.AudioToOpus)
            published.Add(new NegotiatedTrack("a", MediaKind.Audio, "opus", 111, 48000, 2, null, [], Stereo: pull.AudioChannels == 2));
        string ufrag = RandomToken(8), pwd = RandomToken(24);
        if (published.Count == 0)
        {
            _pulls.Release(feed);
            return PublishOutcome.Fail(PublishError.UnsupportedOffer, $"stream '{request.Stream}' has no media a player can take (H.264 or AAC)");
        }
        if (!TryNegotiatePlay(request, offer, published, ufrag, pwd, forwardOnly: false, out var negotiation, out var config, out var failure, pull))
        {
            _pulls.Release(feed);
            return failure;
        }
        string id = RandomToken(16);
        Pull.PullPlayer player;
        lock (_admission)
        {
            if (_sessions.Count + _players.Count + _pullPlayers.Count >= _config.WebRtcMaxClient)
            {
                _pulls.Release(feed);
                return PublishOutcome.Fail(PublishError.NoFreeSession, $"no free session (WEBRTCMAXCLIENT={_config.WebRtcMaxClient})");
            }
            player = new Pull.PullPlayer(id, request.Stream, request.Signaling, feed, config, negotiation.Tracks, MediaLoop.NowMicros());
            _pullPlayers[id] = player;
        }
        player.OnClosed = (p, reason) =>
        {
            Retire(() =>
            {
                if (_pullPlayers.TryRemove(p.Id, out _))
                    Retired.AddPull(p);
            });
            _pulls.Release(p.Feed);
            Log.Notice($"player {p.Id} stream '{p.Stream}' (RTMP pull) ended: {reason}");
            if (!reason.StartsWith("signaling:", StringComparison.Ordinal))
                request.OnEnded?.Invoke(p.Id, reason);
        };
        _loop.Add(player);
        Log.Notice($"player {id} stream '{request.Stream}' via {request.Signaling} from {pull.SourceUrl}: {string.Join(", ", negotiation.Tracks.Select(t => t.Kind + " " + t.Codec))}");
        return PublishOutcome.Ok(id, negotiation.Answer.Write(), null);
    }

    /// <param name="forwardOnly">The player is fed from its publisher's shared history (a pull player packetizes frames itself).</param>
    private bool TryNegotiatePlay(Playback.PlayRequest request, SessionDescription offer, IReadOnlyList<NegotiatedTrack> published, string ufrag, string pwd,
        bool forwardOnly, out Playback.PlayNegotiation.Result negotiation, out Peers.PeerConfig config, out PublishOutcome failure, Pull.RtmpPull? pull = null)
    {
        negotiation = null!;
        config = null!;
        failure = default;
        var local = new PublishNegotiation.LocalParameters(ufrag, pwd, _fingerprint, CandidateAddress(request.LocalAddress), _loop.LocalEndPoint.Port,
            (ulong)Random.Shared.NextInt64(1, long.MaxValue));
        // A pull player packetizes frames itself: the pull can encode VP8 for one that offers no usable H.264.
        if (!Playback.PlayNegotiation.TryAnswer(offer, published, request.Stream, local, Random.Shared, out var result, out var reason, vp8WhenNoH264: !forwardOnly))
        {
            failure = PublishOutcome.Fail(PublishError.UnsupportedOffer, reason);
            return false;
        }
        negotiation = result!;
        var fingerprint = negotiation.RemoteFingerprints.FirstOrDefault(f => f.Algorithm == "sha-256") ?? negotiation.RemoteFingerprints[0];
        if (!DtlsFingerprint.TryParse(fingerprint.ToString(), out var remoteFingerprint))
        {
            failure = PublishOutcome.Fail(PublishError.UnsupportedOffer, "unusable remote fingerprint: " + fingerprint);
            return false;
        }
        config = new Peers.PeerConfig
        {
            Role = Peers.PeerRole.IceLiteServer,
            LocalUfrag = ufrag,
            LocalPwd = pwd,
            RemoteUfrag = negotiation.RemoteUfrag,
            Certificate = _certificate,
            RemoteFingerprint = remoteFingerprint!,
            SendTracks = negotiation.Tracks.Select(t => new Peers.PeerSendTrack
            {
                Mid = t.Mid,
                Ssrc = t.Ssrc,
                PayloadType = t.PayloadType,
                Codec = PlayCodec(t.Codec),
                ClockRate = t.ClockRate,
                RtxSsrc = t.RtxSsrc,
                RtxPayloadType = t.RtxPayloadType,
                ForwardOnly = forwardOnly,
            }).ToArray(),
            MidExtensionId = negotiation.MidExtensionId,
            AbsSendTimeExtensionId = negotiation.AbsSendTimeExtensionId,
            TransportCcExtensionId = negotiation.TransportCcExtensionId,
            PliIntervalMicros = SessionOptions.From(_config).PliIntervalMicros,
            SimulatedSendLossPercent = _config.PlayLossPercent,
            SimulatedSendLossSeed = _config.PlayLossSeed,
            // A transcoded pull's player starts its estimate at what the encoder is configured for (issue 16).
            SendEstimator = pull?.PlayerStartBps(negotiation.Tracks.Any(t => t.Codec == "VP8")) is > 0 and var start
                ? Engine.Gcc.SendSideEstimatorOptions.Default with { StartBps = start }
                : Engine.Gcc.SendSideEstimatorOptions.Default,
        };
        return true;
    }

    private static MediaCodec PlayCodec(string name) => name switch
    {
        "H264" => MediaCodec.H264,
        "VP8" => MediaCodec.Vp8,
        "VP9" => MediaCodec.Vp9,
        _ => MediaCodec.Opus,
    };

    public PublishOutcome Update(string sessionId, string sdp)
    {
        if (!_sessions.ContainsKey(sessionId))
            return PublishOutcome.Fail(PublishError.Internal, "no such session");
        if (!SessionDescription.TryParse(sdp, out _, out var error))
            return PublishOutcome.Fail(PublishError.BadSdp, "bad SDP: " + error);
        // ICE-lite learns candidates from the checks themselves; a full SDP update changes nothing here.
        return PublishOutcome.Ok(sessionId, "", null);
    }

    public bool End(string sessionId, string reason)
    {
        if (_pullPlayers.TryGetValue(sessionId, out var pulled))
        {
            pulled.RequestClose("signaling: " + reason);
            _loop.Remove(pulled);
            return true;
        }
        if (_players.TryGetValue(sessionId, out var player))
        {
            player.RequestClose("signaling: " + reason);
            _loop.Remove(player);
            return true;
        }
        if (!_sessions.TryGetValue(sessionId, out var session))
            return false;
        session.RequestClose("signaling: " + reason);
        _loop.Remove(session);
        return true;
    }

    /// <summary>
    /// The stop: refuses what comes next, then on the media thread ends every player, pulled
    /// player and publisher (RTCP BYE and DTLS close_notify go out as each leaves the loop; a
    /// publisher's outputs are completed) and stops the RTMP pulls. The task completes on the media
    /// thread once all of them have left the loop; it never completes if the loop is not running.
    /// </summary>
    public Task ShutdownAsync(string reason)
    {
        lock (_admission)
            _shuttingDown = true; // a publish past its check has added itself by now
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Post(() =>
        {
            int n = 0;
            foreach (var p in _pullPlayers.Values)
            {
                p.RequestClose(reason);
                _loop.Remove(p);
                n++;
            }
            foreach (var p in _players.Values)
            {
                p.RequestClose(reason);
                _loop.Remove(p);
                n++;
            }
            foreach (var s in _sessions.Values)
            {
                s.RequestClose(reason);
                _loop.Remove(s);
                n++;
            }
            _pulls.StopAll();
            // Runs after the removals just queued: FIFO, in this same pass.
            _loop.Post(() => done.TrySetResult(n));
        });
        return done.Task;
    }

    public bool IsShuttingDown => _shuttingDown;

    public void WriteStreams(Utf8JsonWriter w)
    {
        long now = MediaLoop.NowMicros();
        w.WriteStartObject();
        w.WriteNumber("sessions", _sessions.Count);
        w.WriteNumber("maxSessions", _config.WebRtcMaxClient);
        w.WriteStartObject("mediaPort");
        var c = _loop.Counters;
        w.WriteNumber("port", _loop.LocalEndPoint.Port);
        w.WriteNumber("datagramsReceived", c.DatagramsReceived);
        w.WriteNumber("datagramsSent", c.DatagramsSent);
        w.WriteNumber("droppedUnknownUfrag", c.DroppedUnknownUfrag);
        w.WriteNumber("droppedUnknownAddress", c.DroppedUnknownAddress);
        w.WriteNumber("droppedUnknownKind", c.DroppedUnknownKind);
        w.WriteNumber("sessionFaults", c.SessionFaults);
        w.WriteEndObject();
        w.WriteStartArray("streams");
        foreach (var s in _sessions.Values.OrderBy(s => s.CreatedMicros))
            s.WriteJson(w, now);
        w.WriteEndArray();
        w.WriteNumber("players", _players.Count);
        w.WriteStartArray("playback");
        foreach (var p in _players.Values.OrderBy(p => p.CreatedMicros))
            p.WriteJson(w, now);
        foreach (var p in _pullPlayers.Values.OrderBy(p => p.CreatedMicros))
            p.WriteJson(w, now);
        w.WriteEndArray();
        _pulls.WriteJson(w);
        w.WriteEndObject();
    }

    internal static TrackInfo TrackInfoOf(NegotiatedTrack t)
    {
        var codec = t.Codec switch { "H264" => MediaCodec.H264, "VP8" => MediaCodec.Vp8, "VP9" => MediaCodec.Vp9, _ => MediaCodec.Opus };
        string fmtp = codec == MediaCodec.H264 ? $"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id={t.H264ProfileLevelId ?? "42e01f"}"
            : codec == MediaCodec.Opus ? "minptime=10;useinbandfec=1" : "";
        return new TrackInfo(codec, t.ClockRate, t.Channels, t.PayloadType, fmtp);
    }

    /// <summary>The host candidate: STUNSERVEREXTIP, else a concrete ICELOCALIP, else the address the offer reached us on.</summary>
    private string CandidateAddress(IPAddress? requestLocal)
    {
        if (_config.StunServerExtIp is { } ext)
            return ext.ToString();
        if (_config.IceLocalIp is { } bind && !bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any))
            return bind.ToString();
        if (requestLocal != null)
            return (requestLocal.IsIPv4MappedToIPv6 ? requestLocal.MapToIPv4() : requestLocal).ToString();
        return IPAddress.Loopback.ToString();
    }

    // ice-char (RFC 8839 §5.4): ALPHA / DIGIT / "+" / "/"; we use letters and digits only.
    private static string RandomToken(int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        return RandomNumberGenerator.GetString(alphabet, length);
    }
}
