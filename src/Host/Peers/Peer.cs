using System.Buffers.Binary;
using Engine.Dtls;
using Engine.Host.Sessions;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Rtp;
using Engine.Rtp.Media;
using Engine.Rtp.Receive;
using Engine.Rtp.Rtcp;
using Engine.Rtp.Send;
using Engine.Srtp;

namespace Engine.Host.Peers;

/// <summary>
/// One remote endpoint, both directions (issue 14 §1; str0m's Rtc is the model): ICE (lite
/// answerer or controlling client), DTLS-SRTP, one <see cref="RtpReceiveStream"/> per receive
/// track and one <see cref="RtpSendStream"/> per send track, and the RTCP of both. Sans-IO: bytes
/// and <c>nowMicros</c> in; datagrams (<see cref="TryPollTransmit"/>), events
/// (<see cref="TryPollEvent"/>) and a timer (<see cref="NextTimeoutMicros"/>) out. Media packets
/// wait in the send streams' pacers and are stamped (abs-send-time, transport-wide sequence) and
/// SRTP-protected in the caller's buffer when they leave. Not thread-safe: one thread drives it.
/// </summary>
public sealed class Peer : IEncodedFrameSink, IDisposable
{
    private const long RtcpIntervalMicros = 200_000; // RR + SDES, as PublishSession
    private const long TwccIntervalMicros = 50_000;
    private const int MaxFrameBytes = 8 << 20;
    // A relayed payload keeps its size: a browser's ~1200-byte packets (payload up to ~1176) plus our
    // header extensions (abs-send-time, transport-wide sequence) would not fit the default 1188.
    // Packetized frames keep the packetizer's own smaller payload; 1400 + RTX + SRTP stays under 1472.
    public const int MaxSendPacketSize = 1400;
    private static readonly byte[] Cname = "engine"u8.ToArray();

    private readonly PeerConfig _config;
    private readonly IceLiteAgent? _iceLite;
    private readonly IceControllingAgent? _iceClient;
    private readonly DtlsEndpoint _dtls;
    private readonly TransmitQueue _out;

    private readonly PeerReceiveTrack[] _recvTracks;
    private readonly RtpReceiveStream[] _recv;
    private readonly uint[] _recvSsrc, _recvRtxSsrc;
    private readonly byte[][] _recvMid, _recvRid;
    // A peer with receive tracks has it from the start; a send-only one (a player) at the first RTP packet that carries
    // a transport-wide sequence number, if ever: 17 KB less per player, and one cold object fewer read per forwarded packet.
    private TransportFeedbackBuilder? _twcc;
    private SeqNoUnwrapper _twccUnwrapper;

    private readonly PeerSendTrack[] _sendTracks;
    private readonly RtpSendStream[] _send;
    private readonly H264Packetizer?[] _h264;
    private readonly RtpForwardRewriter[] _rewriters;
    private readonly SendHistory _sendHistory;
    private readonly LeavingPacketStamper _stamper;
    private int _sendCursor;
    // One congestion-controlled pacer for all send streams (players): audio first, resends before new video, at
    // 2.5 x the send-side target, and the estimator's probes. Null: a BurstPacer per stream (no send estimator).
    private readonly Engine.Gcc.Pacer? _pacer;
    private readonly PeerPacerLane[] _lanes = [];
    private readonly bool[] _sendIsVideo;
    private readonly int _paddingTrack = -1; // the video stream whose RTX (or media SSRC) carries probe padding
    private long _pacedTargetBps = -1;

    private readonly uint _rtcpSsrc;
    private uint _remoteRrtrSsrc, _remoteRrtrMiddle;
    private long _remoteRrtrMicros = long.MinValue;
    private long _nextRtcpMicros = long.MaxValue, _nextTwccMicros = long.MaxValue;

    private readonly PeerEvent[] _events;
    private int _eventHead, _eventCount;
    // Allocated at first use: a receive-only peer with a frame sink never needs them.
    private byte[] _frameBytes = [];
    private int _frameUsed;
    private SentPacketResult[] _feedback = [];
    private int _feedbackUsed;
    private readonly uint[] _rembSsrcs;
    private readonly Engine.Gcc.ReceiveSideEstimator? _receiveEstimator;
    private readonly Engine.Gcc.SendSideEstimator? _sendEstimator;

    private SrtpSession? _srtp;
    private long _now;
    private readonly Random? _sendLoss;

    public Peer(PeerConfig config, long nowMicros)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _now = nowMicros;
        var random = config.Seed is int seed ? new Random(seed) : new Random();
        if (config.Role == PeerRole.IceLiteServer)
            _iceLite = new IceLiteAgent(config.LocalUfrag, config.LocalPwd, config.RemoteUfrag, nowMicros, config.ConsentTimeoutMicros);
        else
            _iceClient = new IceControllingAgent(config.LocalUfrag, config.RemoteUfrag, config.RemotePwd, config.RemoteCandidate, nowMicros,
                new Random(random.Next()), consentTimeoutMicros: config.ConsentTimeoutMicros);
        _out = new TransmitQueue(Math.Max(4, config.TransmitSlots));
        _events = new PeerEvent[Math.Max(16, config.EventCapacity)];
        _dtls = new DtlsEndpoint(config.DtlsRole ?? (config.Role == PeerRole.IceLiteServer ? DtlsRole.Server : DtlsRole.Client), config.Certificate,
            new DtlsOptions { RemoteFingerprint = config.RemoteFingerprint, InitialRetransmitMicros = config.DtlsInitialRetransmitMicros });

        _recvTracks = config.ReceiveTracks.ToArray();
        _recv = new RtpReceiveStream[_recvTracks.Length];
        _recvSsrc = new uint[_recvTracks.Length];
        _recvRtxSsrc = new uint[_recvTracks.Length];
        _recvMid = new byte[_recvTracks.Length][];
        _recvRid = new byte[_recvTracks.Length][];
        for (int i = 0; i < _recvTracks.Length; i++)
        {
            var t = _recvTracks[i];
            _recv[i] = new RtpReceiveStream(t.Codec, t.ClockRate, i, config.FrameSink ?? this, t.UseNack ?? t.Codec != MediaCodec.Opus);
            if (!t.UseFir)
                _recv[i].PlisBeforeFir = 0;
            _recvSsrc[i] = t.Ssrc;
            _recvRtxSsrc[i] = t.RtxSsrc;
            _recvMid[i] = System.Text.Encoding.ASCII.GetBytes(t.Mid);
            _recvRid[i] = t.Rid is null ? [] : System.Text.Encoding.ASCII.GetBytes(t.Rid);
        }
        if (config.TransportCcExtensionId != 0 && _recvTracks.Length > 0)
            _twcc = new TransportFeedbackBuilder();
        _rembSsrcs = new uint[_recvTracks.Length];
        if (config.ReceiveEstimator is { } receiveEstimator && config.AbsSendTimeExtensionId != 0 && _recvTracks.Length > 0)
            _receiveEstimator = new Engine.Gcc.ReceiveSideEstimator(receiveEstimator);
        if (config.SendEstimator is { } sendEstimator && config.SendTracks.Count > 0)
            _sendEstimator = new Engine.Gcc.SendSideEstimator(sendEstimator);
        // 8192 remembered packets (160 KB) only when we send: a receive-only peer keeps a token history.
        _sendHistory = config.SendTracks.Count > 0 ? new SendHistory() : new SendHistory(2);

        _stamper = new LeavingPacketStamper(config.AbsSendTimeExtensionId, config.TransportCcExtensionId, _sendHistory,
            (ushort)random.Next(0, 1 << 16));
        _sendTracks = config.SendTracks.ToArray();
        _send = new RtpSendStream[_sendTracks.Length];
        _sendIsVideo = new bool[_sendTracks.Length];
        // Without transport-cc no feedback ever moves the target: pacing at its start would cap the player for good.
        if (_sendEstimator != null && config.GccPacer && config.TransportCcExtensionId != 0 && _sendTracks.Length <= PeerPacerLane.MaxTracks)
        {
            // Rings sized as the per-stream pacers were (a keyframe or a replayed GOP fits); a padding packet is a
            // header and at most 255 octets of RTP padding (RFC 3550 §5.1).
            _pacer = new Engine.Gcc.Pacer(audioCapacity: 256, retransmissionCapacity: 512, videoCapacity: 2048,
                maxQueueMicros: config.PacerMaxQueueMicros, maxPaddingBytes: 64 + 255);
            _lanes = new PeerPacerLane[_sendTracks.Length];
        }
        _h264 = new H264Packetizer?[_sendTracks.Length];
        _rewriters = new RtpForwardRewriter[_sendTracks.Length];
        for (int i = 0; i < _sendTracks.Length; i++)
        {
            var t = _sendTracks[i];
            bool video = t.Codec != MediaCodec.Opus;
            _sendIsVideo[i] = video;
            if (_pacer != null)
                _lanes[i] = new PeerPacerLane(_pacer, i, audio: !video);
            if (video && (_paddingTrack < 0 || t.RtxSsrc.HasValue && !_sendTracks[_paddingTrack].RtxSsrc.HasValue))
                _paddingTrack = i;
            _send[i] = new RtpSendStream(new RtpSendStreamOptions
            {
                Ssrc = t.Ssrc,
                PayloadType = t.PayloadType,
                ClockRate = t.ClockRate,
                RtxSsrc = t.RtxSsrc,
                RtxPayloadType = t.RtxPayloadType,
                HistoryPackets = t.HistoryPackets > 0 ? t.HistoryPackets : video ? 1024 : 64,
                Seed = random.Next(),
                PacerCapacity = video ? 2048 : 256,
                MaxPacketSize = MaxSendPacketSize,
                PreallocatePayloads = !t.ForwardOnly,
            }, _stamper, _pacer != null ? _lanes[i] : null);
            if (t.Codec == MediaCodec.H264)
                _h264[i] = new H264Packetizer(Math.Min(H264Packetizer.DefaultMaxPayloadSize, _send[i].MaxPayloadSize));
            _rewriters[i] = new RtpForwardRewriter(t.Ssrc, t.ClockRate, random);
        }
        if (_pacer == null)
            _paddingTrack = -1;
        else
            UpdatePacing(nowMicros);
        if (config.SimulatedSendLossPercent > 0)
            _sendLoss = new Random(config.SimulatedSendLossSeed);
        _rtcpSsrc = config.RtcpSsrc != 0 ? config.RtcpSsrc : _sendTracks.Length > 0 ? _sendTracks[0].Ssrc : (uint)random.Next(1, int.MaxValue);
    }

    public PeerRole Role => _config.Role;
    public PeerState State { get; private set; }
    public string? CloseReason { get; private set; }
    public PeerCounters Counters { get; } = new();
    /// <summary>Where our datagrams go: the lite side's selected path, the client's remote candidate once ICE succeeded.</summary>
    public NetAddress? Route => _iceLite != null ? _iceLite.Selected : _iceClient!.State == IceControllingState.Connected ? _iceClient.Remote : null;
    public DtlsEndpoint Dtls => _dtls;
    public IceControllingAgent? IceClient => _iceClient;
    public IceLiteAgent? IceLite => _iceLite;
    public SendHistory SendHistory => _sendHistory;
    /// <summary>Control datagrams dropped because the transmit queue was full.</summary>
    public long TransmitDropped => _out.Dropped;
    public int ReceiveTrackCount => _recv.Length;
    /// <summary>The SSRC bound to a receive track (signalled or learned), 0 before its first packet.</summary>
    public uint GetReceiveSsrc(int receiveTrack) => _recvSsrc[receiveTrack];
    /// <summary>The RTX SSRC bound to a receive track, 0 when none yet.</summary>
    public uint GetReceiveRtxSsrc(int receiveTrack) => _recvRtxSsrc[receiveTrack];
    public RtpSendStream GetSendStream(int sendTrack) => _send[sendTrack];
    public RtpReceiveStream GetReceiveStream(int receiveTrack) => _recv[receiveTrack];
    /// <summary>RTCP BYE packets from the remote (RFC 3550 §6.6).</summary>
    public long ByesReceived { get; private set; }
    /// <summary>Round-trip time from XR DLRR (RFC 3611 §4.5) or our send streams' report blocks; -1 until known.</summary>
    public long RttMicros { get; private set; } = -1;
    /// <summary>The receive-side estimator (<see cref="PeerConfig.ReceiveEstimator"/>), null when none runs.</summary>
    public Engine.Gcc.ReceiveSideEstimator? ReceiveEstimator => _receiveEstimator;
    /// <summary>The send-side estimator (<see cref="PeerConfig.SendEstimator"/>), null when none runs.</summary>
    public Engine.Gcc.SendSideEstimator? SendEstimator => _sendEstimator;
    /// <summary>The bitrate of the last REMB we sent, -1 before the first.</summary>
    public long LastRembSentBps { get; private set; } = -1;
    /// <summary>The bitrate of the last REMB the remote sent us, -1 before the first.</summary>
    public long RemoteRembBps { get; private set; } = -1;
    /// <summary>What to send at, from the send-side estimator; -1 when none runs.</summary>
    public long TargetBps => _sendEstimator?.TargetBps ?? -1;

    /// <summary>Under this target video stops (audio keeps going): a path this poor cannot carry it without loss.</summary>
    public const long VideoPauseBps = 80_000;

    /// <summary>Video resumes over this target (hysteresis over <see cref="VideoPauseBps"/>), with a keyframe request to the source.</summary>
    public const long VideoResumeBps = 120_000;

    /// <summary>The peer's congestion-controlled pacer; null when the send streams pace themselves (no send estimator).</summary>
    public Engine.Gcc.Pacer? Pacer => _pacer;

    /// <summary>True while the target is under <see cref="VideoPauseBps"/> (until it rises over <see cref="VideoResumeBps"/>): video writes are refused.</summary>
    public bool VideoPaused { get; private set; }

    /// <summary>How long the oldest packet in the pacer has waited at the last time given (0: empty or no pacer).</summary>
    public long PacerQueueMicros => _pacer?.QueueDelayMicros(_now) ?? 0;

    /// <summary>Packets the pacer dropped: waited past its time bound, found its queue full, or were resends over the window's budget.</summary>
    public long PacerDropped => _pacer is { } p ? p.Expired + p.DroppedFull + p.RetransmissionsOverBudget : 0;

    /// <summary>Probe clusters the pacer was given (from the send-side estimator's probe controller).</summary>
    public long ProbesSent { get; private set; }

    /// <summary>Padding-only packets sent for probes (on the RTX SSRC, or the media SSRC when no RTX was negotiated).</summary>
    public long ProbePaddingSent { get; private set; }

    public long NextTimeoutMicros
    {
        get
        {
            if (State == PeerState.Closed)
                return long.MaxValue;
            long next = _dtls.NextTimeoutMicros;
            if (_iceLite != null)
                next = Math.Min(next, _iceLite.ConsentDeadlineMicros);
            else
                next = Math.Min(next, _iceClient!.NextTimeoutMicros);
            if (_srtp == null)
                return next;
            next = Math.Min(next, _nextRtcpMicros);
            if (_twcc is { PendingCount: > 0 })
                next = Math.Min(next, _nextTwccMicros);
            foreach (var s in _recv)
            {
                next = Math.Min(next, s.NextTimeoutMicros(0));
                next = Math.Min(next, s.NextPliMicros(_config.PliIntervalMicros));
            }
            foreach (var s in _send)
                next = Math.Min(next, s.NextTimeoutMicros);
            if (_pacer != null && State == PeerState.Connected)
                next = Math.Min(next, _pacer.NextWakeMicros(_now));
            return next;
        }
    }

    public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros) => HandleDatagram(datagram, from, nowMicros, nowMicros);

    /// <summary>With the datagram's arrival time (at most now, same clock): what transport-cc feedback and the receive-side estimate use.</summary>
    public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros, long arrivalMicros)
    {
        _now = nowMicros;
        ResetBuffersIfPolled();
        if (State == PeerState.Closed)
            return;
        switch (DatagramDemux.Classify(datagram))
        {
            case DatagramKind.Stun:
                HandleStun(datagram, from, nowMicros);
                break;
            case DatagramKind.Dtls:
                if (Route != from)
                {
                    Counters.DroppedWrongPath++;
                    return;
                }
                _dtls.HandleDatagram(datagram, nowMicros);
                AfterDtls(nowMicros);
                break;
            case DatagramKind.Rtp:
                HandleRtp(datagram, from, nowMicros, Math.Min(arrivalMicros, nowMicros));
                break;
            case DatagramKind.Rtcp:
                HandleRtcp(datagram, from, nowMicros);
                break;
            default:
                Counters.DroppedUnknown++;
                break;
        }
    }

    public void HandleTimeout(long nowMicros)
    {
        _now = nowMicros;
        ResetBuffersIfPolled();
        if (State == PeerState.Closed)
            return;
        if (_iceLite != null)
        {
            if (_iceLite.ConsentExpired(nowMicros))
            {
                Finish("ICE consent expired");
                return;
            }
        }
        else
        {
            var ice = _iceClient!;
            if (nowMicros >= ice.NextTimeoutMicros)
                ice.HandleTimeout(nowMicros);
            if (ice.State == IceControllingState.Failed)
            {
                Finish("ICE failed");
                return;
            }
            if (ice.ConsentExpired(nowMicros))
            {
                Finish("ICE consent expired");
                return;
            }
            FlushIceClient();
        }
        if (nowMicros >= _dtls.NextTimeoutMicros)
        {
            _dtls.HandleTimeout(nowMicros);
            AfterDtls(nowMicros);
            if (State == PeerState.Closed)
                return;
        }
        for (int i = 0; i < _recv.Length; i++)
        {
            _recv[i].HandleTimeout(nowMicros);
            if (_config.ReceiveTrace is { } trace)
                TraceRepair(trace, i, nowMicros);
        }
        if (_srtp != null && Route is { } to)
        {
            SendRtcp(nowMicros, to);
            SendRembIfDue(nowMicros, to); // the at-least-every-second repeat while packets pause
        }
        if (_pacer != null && State == PeerState.Connected)
            TakeProbes(nowMicros);
    }

    // Probes start once the padding stream has sent media (padding needs its timestamp); the first call starts the initial ones.
    private void TakeProbes(long nowMicros)
    {
        if (_paddingTrack < 0 || _send[_paddingTrack].PacketsSent == 0)
            return;
        for (int i = 0; i < 4 && _sendEstimator!.TryTakeProbe(nowMicros, out var cluster); i++)
            if (_pacer!.StartProbe(cluster))
                ProbesSent++;
    }

    // The estimate moved: the pacing rate follows, and video pauses under the floor (resumes over the higher bar).
    private void UpdatePacing(long nowMicros)
    {
        long target = _sendEstimator!.TargetBps;
        if (target != _pacedTargetBps)
        {
            _pacer!.SetTarget(target, nowMicros);
            _pacedTargetBps = target;
        }
        if (!VideoPaused && target < VideoPauseBps && _paddingTrack >= 0)
        {
            VideoPaused = true;
            Counters.VideoPauses++;
        }
        else if (VideoPaused && target > VideoResumeBps)
        {
            VideoPaused = false;
            Counters.VideoResumes++;
            // Video picks up at a keyframe: ask the source, as a player's PLI does.
            for (int i = 0; i < _send.Length; i++)
                if (_sendIsVideo[i])
                    Enqueue(new PeerEvent(PeerEventKind.KeyframeRequested, i));
        }
    }

    private bool RefuseWhilePaused(int sendTrack)
    {
        if (!VideoPaused || !_sendIsVideo[sendTrack])
            return false;
        Counters.VideoPausedDrops++;
        return true;
    }

    /// <summary>
    /// Packetizes one encoded frame onto <paramref name="sendTrack"/>: an H.264 access unit in
    /// Annex B, or one Opus packet. Returns the RTP packets written (0: refused and counted).
    /// </summary>
    public int WriteFrame(int sendTrack, ReadOnlySpan<byte> frame, uint rtpTimestamp, long nowMicros)
    {
        _now = nowMicros;
        if (State != PeerState.Connected || (uint)sendTrack >= (uint)_send.Length)
        {
            Counters.WritesRefused++;
            return 0;
        }
        if (RefuseWhilePaused(sendTrack))
            return 0;
        var stream = _send[sendTrack];
        if (_h264[sendTrack] is { } packetizer)
            return stream.WriteH264(packetizer, frame, rtpTimestamp, nowMicros);
        if (_sendTracks[sendTrack].Codec == MediaCodec.Opus && OpusPacketizer.Write(frame, stream.PayloadBuffer) is int n and > 0)
            return stream.CommitPacket(n, rtpTimestamp, false, nowMicros) ? 1 : 0;
        Counters.WritesRefused++; // VP8/VP9 have no packetizer here: forward them with WriteRtp
        return 0;
    }

    /// <summary>
    /// Forwards one relayed RTP packet (after the upstream's SRTP) on <paramref name="sendTrack"/>:
    /// the payload and marker kept, the timestamp continued by the track's <see cref="RtpForwardRewriter"/>
    /// across source changes, SSRC and sequence number the send stream's (its NACK history is by them).
    /// The source's header extensions are not forwarded; ours are stamped when it leaves. The source is not modified.
    /// </summary>
    public bool WriteRtp(int sendTrack, ReadOnlySpan<byte> packet, long nowMicros)
    {
        _now = nowMicros;
        if (State != PeerState.Connected || (uint)sendTrack >= (uint)_send.Length || !RtpPacketView.TryRead(packet, out var view))
        {
            Counters.WritesRefused++;
            return false;
        }
        if (RefuseWhilePaused(sendTrack))
            return false;
        Span<byte> header = stackalloc byte[RtpPacketView.FixedHeaderLength];
        packet[..RtpPacketView.FixedHeaderLength].CopyTo(header);
        if (!_rewriters[sendTrack].Rewrite(header, nowMicros))
        {
            Counters.WritesRefused++;
            return false;
        }
        uint timestamp = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        if (!_send[sendTrack].WritePayload(view.Payload, timestamp, view.Marker, nowMicros))
        {
            Counters.WritesRefused++;
            return false;
        }
        return true;
    }

    /// <summary>
    /// Forwards packet <paramref name="id"/> of a source's <see cref="SharedPacketHistory"/> on
    /// <paramref name="sendTrack"/>, as <see cref="WriteRtp(int, ReadOnlySpan{byte}, long)"/> does but
    /// without copying it: the send stream keeps its own header fields and the id, and builds the
    /// packet (and any resend) from the shared payload when it leaves. Several sources may feed one
    /// track (the rewriter continues across them); each history belongs to its source track.
    /// </summary>
    public bool WriteRtp(int sendTrack, SharedPacketHistory history, long id, long nowMicros)
    {
        _now = nowMicros;
        var source = history.GetHeader(id);
        if (State != PeerState.Connected || (uint)sendTrack >= (uint)_send.Length || source.IsEmpty)
        {
            Counters.WritesRefused++;
            return false;
        }
        if (RefuseWhilePaused(sendTrack))
            return false;
        Span<byte> header = stackalloc byte[RtpPacketView.FixedHeaderLength];
        source.CopyTo(header);
        if (!_rewriters[sendTrack].Rewrite(header, nowMicros)
            || !_send[sendTrack].WriteShared(history, id, BinaryPrimitives.ReadUInt32BigEndian(header[4..]), (header[1] & 0x80) != 0, nowMicros))
        {
            Counters.WritesRefused++;
            return false;
        }
        return true;
    }

    /// <summary>Asks the remote for a keyframe on <paramref name="receiveTrack"/>: PLI now, repeated until one arrives.</summary>
    public void RequestKeyframe(int receiveTrack)
    {
        if ((uint)receiveTrack < (uint)_recv.Length)
            _recv[receiveTrack].RequestKeyframe();
    }

    /// <summary>
    /// Ends the peer: an RTCP BYE for our sources (RFC 3550 §6.6) and DTLS close_notify
    /// (RFC 5246 §7.2.1) queued for <see cref="TryPollTransmit"/>, a Closed event.
    /// </summary>
    public void Close(long nowMicros)
    {
        _now = nowMicros;
        if (State == PeerState.Closed)
            return;
        if (_dtls.State == DtlsState.Connected && Route is { } to)
        {
            if (_srtp != null)
                SendBye(to);
            _dtls.Close();
            FlushDtls(to);
        }
        Finish("closed locally");
    }

    /// <summary>
    /// The next datagram to send: control first (STUN, DTLS, RTCP), then media the pacers release
    /// at the last time given, stamped and SRTP-protected in <paramref name="destination"/>
    /// (at least 1500 bytes). Poll until false after every call into the peer.
    /// </summary>
    public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to)
    {
        if (_out.TryDequeue(destination, out length, out to))
            return true;
        length = 0;
        to = default;
        if (_srtp == null || State != PeerState.Connected || Route is not { } route)
            return false;
        if (_pacer != null)
            return TryPollPaced(destination, route, out length, out to);
        for (int k = 0; k < _send.Length; k++)
        {
            int i = (_sendCursor + k) % _send.Length;
            if (!_send[i].TryPollPacket(destination, _now, out int n))
                continue;
            _sendCursor = (i + 1) % _send.Length; // round robin: audio does not wait behind a keyframe
            if (_sendLoss != null && _sendLoss.Next(100) < _config.SimulatedSendLossPercent)
            {
                // Lost after stamping, as on the wire: transport-cc feedback reports it missing, a NACK may ask again.
                Counters.SimulatedSendLoss++;
                k = -1; // every stream again, from the new cursor; each pass takes a packet out of a pacer, so this ends
                continue;
            }
            var r = _srtp.ProtectRtp(destination, n, out int protectedLength);
            if (r != SrtpResult.Ok)
            {
                Counters.SrtpFailures++;
                continue;
            }
            Counters.RtpSent++;
            // ALR detection counts what left; no probe clusters until src/Gcc's Pacer sends them.
            _sendEstimator?.OnPacketSent(-1, _now, protectedLength, -1, padding: false);
            length = protectedLength;
            to = route;
            return true;
        }
        return false;
    }

    // The pacer decides what leaves (and drops what waited too long); the stream writes it; the estimator learns of it.
    private bool TryPollPaced(Span<byte> destination, NetAddress route, out int length, out NetAddress to)
    {
        length = 0;
        to = default;
        var pacer = _pacer!;
        for (int guard = pacer.QueuedPackets + 8; guard > 0; guard--)
        {
            if (!pacer.TryPoll(_now, out var p))
                return false;
            int n;
            bool padding = p.Kind == Engine.Gcc.PacedPacketKind.Padding;
            if (padding)
            {
                var carrier = _send[_paddingTrack];
                if (!carrier.TryWritePadding(destination, p.Size - carrier.HeaderLength, _now, out n))
                    continue;
                ProbePaddingSent++;
            }
            else
            {
                int track = PeerPacerLane.TrackOf(p.Handle);
                _lanes[track].OnDequeued();
                if (p.Expired || !_send[track].TryWriteQueued(PeerPacerLane.PacketIdOf(p.Handle), destination, _now, out n))
                    continue; // expired: counted by the pacer; evicted: by the stream
            }
            // What left is known to the estimator (ALR, probe clusters) even when the simulated network loses it.
            long transportSeq = _stamper.LastTransportSequenceNumber;
            _sendEstimator!.OnPacketSent(transportSeq, _now, n, transportSeq >= 0 ? p.ProbeClusterId : -1, padding);
            if (_sendLoss != null && _sendLoss.Next(100) < _config.SimulatedSendLossPercent)
            {
                Counters.SimulatedSendLoss++;
                continue;
            }
            var r = _srtp!.ProtectRtp(destination, n, out int protectedLength);
            if (r != SrtpResult.Ok)
            {
                Counters.SrtpFailures++;
                continue;
            }
            Counters.RtpSent++;
            length = protectedLength;
            to = route;
            return true;
        }
        return false;
    }

    public bool TryPollEvent(out PeerEvent ev)
    {
        ResetBuffersIfPolled();
        if (_eventCount == 0)
        {
            ev = default;
            return false;
        }
        ev = _events[_eventHead];
        _eventHead = (_eventHead + 1) % _events.Length;
        _eventCount--;
        return true;
    }

    /// <summary>The frame of a FrameReceived event (AVCC for H.264), valid until the next call into the peer.</summary>
    public ReadOnlySpan<byte> GetFrameData(in PeerEvent ev) =>
        ev.Kind == PeerEventKind.FrameReceived ? _frameBytes.AsSpan(ev.DataOffset, ev.DataLength) : default;

    /// <summary>The packets of a TransportFeedback event, valid until the next call into the peer.</summary>
    public ReadOnlySpan<SentPacketResult> GetFeedback(in PeerEvent ev) =>
        ev.Kind == PeerEventKind.TransportFeedback ? _feedback.AsSpan(ev.FeedbackOffset, ev.FeedbackCount) : default;

    public void Dispose()
    {
        _srtp?.Dispose();
        _dtls.Dispose();
    }

    // --- ICE and DTLS ---

    private void HandleStun(ReadOnlySpan<byte> datagram, in NetAddress from, long nowMicros)
    {
        if (_iceLite != null)
        {
            var slot = _out.Reserve();
            var result = _iceLite.HandleStun(datagram, from, nowMicros, slot, out int length);
            if (length > 0)
                _out.Commit(length, from);
            if (result == IceCheckResult.Answered && _dtls.Role == DtlsRole.Client && _dtls.State == DtlsState.New)
            {
                _dtls.Start(nowMicros); // setup:passive offer: we are the DTLS client once a check names the path
                AfterDtls(nowMicros);
            }
            return;
        }
        var ice = _iceClient!;
        bool wasChecking = ice.State == IceControllingState.Checking;
        if (!ice.HandleStun(datagram, from, nowMicros))
        {
            if (ice.State == IceControllingState.Failed)
                Finish("ICE failed");
            return;
        }
        if (wasChecking && ice.State == IceControllingState.Connected && _dtls.State == DtlsState.New)
        {
            _dtls.Start(nowMicros); // RFC 8842 §5: the client starts once the path is valid
            AfterDtls(nowMicros);
        }
    }

    private void FlushIceClient()
    {
        var slot = _out.Reserve();
        if (!slot.IsEmpty && _iceClient!.TryPollTransmit(slot, out int n))
            _out.Commit(n, _iceClient.Remote);
    }

    private void FlushDtls(in NetAddress to)
    {
        for (int i = 0; i < 64; i++)
        {
            var slot = _out.Reserve();
            if (slot.IsEmpty || !_dtls.TryPollTransmit(slot, out int n))
                break;
            _out.Commit(n, to);
        }
    }

    private void AfterDtls(long nowMicros)
    {
        if (Route is { } to)
            FlushDtls(to);
        if (_dtls.State == DtlsState.Connected && _srtp == null)
        {
            Span<byte> km = stackalloc byte[88];
            if (!_dtls.TryExportSrtpKeyingMaterial(km, out int kmLength))
            {
                Finish("DTLS: no SRTP keying material");
                return;
            }
            _srtp = new SrtpSession((SrtpProfile)_dtls.SrtpProfile, km[..kmLength], isClient: _dtls.Role == DtlsRole.Client);
            _nextRtcpMicros = nowMicros + RtcpIntervalMicros;
            _nextTwccMicros = nowMicros + TwccIntervalMicros;
            State = PeerState.Connected;
            Enqueue(new PeerEvent(PeerEventKind.Connected, -1));
        }
        else if (_dtls.State == DtlsState.Failed)
            Finish("DTLS failed");
        else if (_dtls.State == DtlsState.Closed)
            Finish("DTLS close_notify");
    }

    private void Finish(string reason)
    {
        if (State == PeerState.Closed)
            return;
        State = PeerState.Closed;
        CloseReason = reason;
        Enqueue(new PeerEvent(PeerEventKind.Closed, -1, reason));
    }

    // --- receive ---

    private void HandleRtp(Span<byte> datagram, in NetAddress from, long nowMicros, long arrivalMicros)
    {
        if (_srtp == null || Route != from)
        {
            Counters.DroppedWrongPath++;
            return;
        }
        var unprotect = _srtp.UnprotectRtp(datagram, out int length);
        if (unprotect != SrtpResult.Ok)
        {
            CountSrtp(unprotect);
            return;
        }
        var plain = datagram[..length];
        if (!RtpPacketView.TryRead(plain, out var packet))
        {
            Counters.DroppedMalformed++;
            return;
        }
        if (_config.TransportCcExtensionId != 0 && packet.TryGetExtension(_config.TransportCcExtensionId, out var tcc) && TransportSequenceNumber.TryRead(tcc, out ushort tseq))
            (_twcc ??= new TransportFeedbackBuilder()).AddReceivedPacket(_twccUnwrapper.Unwrap(tseq), arrivalMicros);
        int track = FindTrack(packet, out bool rtx);
        if (track < 0)
            return; // counted by FindTrack
        // Every video packet counts in the rate, RTX and probe padding too (they load the path as media
        // does); only first transmissions of media form the delay groups (see ReceiveSideEstimator).
        if (_receiveEstimator != null && _recv[track].IsVideo && packet.TryGetExtension(_config.AbsSendTimeExtensionId, out var ast)
            && AbsSendTime.TryRead(ast, out var sendTime))
        {
            var kind = rtx ? (packet.Payload.Length < 2 + 1 ? Engine.Gcc.ReceivedPacketKind.Padding : Engine.Gcc.ReceivedPacketKind.Retransmission)
                : packet.Payload.Length == 0 ? Engine.Gcc.ReceivedPacketKind.Padding : Engine.Gcc.ReceivedPacketKind.Media;
            _receiveEstimator.OnPacket(arrivalMicros, sendTime.Value, length, kind);
            SendRembIfDue(nowMicros, from);
        }
        if (rtx)
        {
            // RFC 4588 §4: the original sequence number leads the payload; rebuild the original
            // packet in place (header moved 2 bytes on, over the OSN) with the media PT and SSRC.
            var payload = packet.Payload;
            if (payload.Length < 2 + 1)
            {
                // Bandwidth-probe padding (or an empty original): its RTX sequence number is the
                // RTX stream's own, so the media stream never sees a gap for it.
                Counters.RtxPadding++;
                return;
            }
            ushort osn = BinaryPrimitives.ReadUInt16BigEndian(payload);
            int h = packet.HeaderLength;
            plain[..h].CopyTo(plain[2..]);
            plain = plain[2..];
            plain[1] = (byte)((plain[1] & 0x80) | _recvTracks[track].PayloadType);
            BinaryPrimitives.WriteUInt16BigEndian(plain[2..], osn);
            BinaryPrimitives.WriteUInt32BigEndian(plain[8..], _recvSsrc[track]);
            if (!RtpPacketView.TryRead(plain, out packet))
            {
                Counters.DroppedMalformed++;
                return;
            }
            Counters.RtxReceived++;
        }
        Counters.RtpReceived++;
        _config.RtpObserver?.OnRtpReceived(track, plain, packet, nowMicros);
        _recv[track].OnRtp(packet, nowMicros, rtx);
        if (_config.ReceiveTrace is { } trace)
        {
            trace.WriteLine($"R {nowMicros} {track} {packet.SequenceNumber} {(rtx ? 1 : 0)} {(packet.Marker ? 1 : 0)} {packet.Payload.Length}");
            TraceRepair(trace, track, nowMicros);
        }
    }

    private long[]? _traced;

    // One line when a stream's repair counters move: reorder gaps given up, held packets flushed, NACK give-ups, frames dropped.
    private void TraceRepair(TextWriter trace, int track, long nowMicros)
    {
        _traced ??= new long[_recv.Length * 4];
        var s = _recv[track];
        long a = s.ReorderSkipped, b = s.ReorderFlushed, c = s.NackGivenUp, d = s.FramesDropped;
        var t = _traced.AsSpan(track * 4, 4);
        if (a == t[0] && b == t[1] && c == t[2] && d == t[3])
            return;
        trace.WriteLine($"S {nowMicros} {track} skipped {a} flushed {b} givenup {c} dropped {d} expected {s.ReorderExpected}");
        (t[0], t[1], t[2], t[3]) = (a, b, c, d);
    }

    private void CountSrtp(SrtpResult r)
    {
        Counters.SrtpFailures++;
        if (r == SrtpResult.AuthFailed)
            Counters.SrtpAuthFailed++;
        else if (r is SrtpResult.Replay or SrtpResult.TooOld)
            Counters.SrtpReplayed++;
    }

    /// <summary>
    /// SSRC (media or RTX) first; a new SSRC binds by MID (and RID), else by payload type (RFC 8843 §9.2).
    /// -1 with the reason counted: unknown, RTX before its media, or a second SSRC on a bound track.
    /// </summary>
    private int FindTrack(in RtpPacketView packet, out bool rtx)
    {
        uint ssrc = packet.Ssrc;
        rtx = false;
        for (int i = 0; i < _recvSsrc.Length; i++)
        {
            if (_recvSsrc[i] == ssrc && ssrc != 0)
                return i;
            if (_recvRtxSsrc[i] == ssrc && ssrc != 0)
            {
                rtx = true;
                if (_recvSsrc[i] != 0)
                    return i;
                Counters.DroppedRtxBeforeMedia++; // nothing to map the OSN onto yet
                return -1;
            }
        }
        int pt = packet.PayloadType;
        int track = -1;
        if (_config.MidExtensionId != 0 && packet.TryGetExtension(_config.MidExtensionId, out var mid))
        {
            ReadOnlySpan<byte> rid = default;
            bool hasRid = _config.RidExtensionId != 0 && packet.TryGetExtension(_config.RidExtensionId, out rid);
            for (int i = 0; i < _recvTracks.Length && track < 0; i++)
                if (mid.SequenceEqual(_recvMid[i]) && (!hasRid || _recvRid[i].Length == 0 || rid.SequenceEqual(_recvRid[i]))
                    && (pt == _recvTracks[i].PayloadType || pt == _recvTracks[i].RtxPayloadType))
                    track = i;
        }
        for (int i = 0; i < _recvTracks.Length && track < 0; i++)
            if (pt == _recvTracks[i].PayloadType || pt == _recvTracks[i].RtxPayloadType)
                track = i;
        if (track < 0)
        {
            Counters.DroppedUnknownSsrc++;
            return -1;
        }
        if (pt == _recvTracks[track].RtxPayloadType)
        {
            if (_recvSsrc[track] == 0)
            {
                Counters.DroppedRtxBeforeMedia++;
                return -1;
            }
            if (_recvRtxSsrc[track] != 0)
            {
                Counters.DroppedSecondSsrc++; // the RTX of a second simulcast layer
                return -1;
            }
            _recvRtxSsrc[track] = ssrc;
            rtx = true;
            return track;
        }
        if (_recvSsrc[track] != 0)
        {
            // A second layer (simulcast without RIDs negotiated as tracks): counted, never fed
            // into the bound stream, whose sequence and timestamps it would break.
            Counters.DroppedSecondSsrc++;
            return -1;
        }
        _recvSsrc[track] = ssrc;
        return track;
    }

    private void HandleRtcp(Span<byte> datagram, in NetAddress from, long nowMicros)
    {
        if (_srtp == null || Route != from)
        {
            Counters.DroppedWrongPath++;
            return;
        }
        var unprotect = _srtp.UnprotectRtcp(datagram, out int length);
        if (unprotect != SrtpResult.Ok)
        {
            CountSrtp(unprotect);
            return;
        }
        if (!RtcpCompound.TryRead(datagram[..length], out var compound))
        {
            Counters.DroppedMalformed++;
            return;
        }
        Counters.RtcpReceived++;
        foreach (var p in compound)
        {
            if (SenderReportView.TryRead(p, out var sr))
            {
                for (int i = 0; i < _recv.Length; i++)
                    if (_recvSsrc[i] == sr.SenderSsrc && sr.SenderSsrc != 0)
                        _recv[i].OnSenderReport(sr.NtpTimestamp, sr.RtpTimestamp, nowMicros);
                for (int b = 0; b < sr.ReportCount; b++)
                    OnReportBlock(sr.GetReportBlock(b), nowMicros);
            }
            else if (ReceiverReportView.TryRead(p, out var rr))
            {
                for (int b = 0; b < rr.ReportCount; b++)
                    OnReportBlock(rr.GetReportBlock(b), nowMicros);
            }
            else if (GenericNackView.TryRead(p, out var nack))
            {
                foreach (var s in _send)
                    if (s.Ssrc == nack.MediaSsrc)
                        s.HandleNack(nack, nowMicros);
            }
            else if (PliView.TryRead(p, out var pli))
            {
                foreach (var s in _send)
                    s.HandlePli(pli);
            }
            else if (FirView.TryRead(p, out var fir))
            {
                foreach (var s in _send)
                    s.HandleFir(fir);
            }
            else if (TransportFeedbackView.TryRead(p, out var tf))
            {
                if (_feedback.Length == 0)
                    _feedback = new SentPacketResult[4096]; // once, at the first feedback
                int n = _sendHistory.Match(tf, _feedback.AsSpan(_feedbackUsed));
                if (n > 0)
                {
                    _sendEstimator?.OnTransportFeedback(_feedback.AsSpan(_feedbackUsed, n), nowMicros);
                    if (_pacer != null)
                        UpdatePacing(nowMicros);
                    Enqueue(new PeerEvent(PeerEventKind.TransportFeedback, -1) { FeedbackOffset = _feedbackUsed, FeedbackCount = n });
                    _feedbackUsed += n;
                }
            }
            else if (RembView.TryRead(p, out var remb))
            {
                Counters.RembReceived++;
                RemoteRembBps = (long)Math.Min(remb.BitrateBps, long.MaxValue);
                _sendEstimator?.OnRemb(RemoteRembBps); // a cap on what we send
                if (_pacer != null)
                    UpdatePacing(nowMicros);
            }
            else if (ByeView.TryRead(p, out _))
                ByesReceived++; // the end itself comes with close_notify (or consent loss)
            else if (ExtendedReportView.TryRead(p, out var xr))
            {
                if (xr.TryGetRrtr(out ulong ntp))
                {
                    _remoteRrtrSsrc = xr.SenderSsrc;
                    _remoteRrtrMiddle = (uint)(ntp >> 16);
                    _remoteRrtrMicros = nowMicros;
                }
                foreach (var dlrr in xr.DlrrSubBlocks)
                    if (dlrr.Ssrc == _rtcpSsrc && dlrr.LastReceiverReport != 0)
                        OnDlrr(nowMicros, dlrr.LastReceiverReport, dlrr.DelaySinceLastReceiverReport);
            }
        }
        for (int i = 0; i < _send.Length; i++)
            if (_send[i].TakeKeyframeRequest())
                Enqueue(new PeerEvent(PeerEventKind.KeyframeRequested, i));
    }

    private void OnReportBlock(in ReportBlock block, long nowMicros)
    {
        for (int i = 0; i < _send.Length; i++)
        {
            var s = _send[i];
            if (s.Ssrc != block.Ssrc)
                continue;
            s.HandleReportBlock(block, nowMicros);
            if (s.RttMicros >= 0)
                SetRtt(s.RttMicros);
            Enqueue(new PeerEvent(PeerEventKind.ReceiverReport, i)
            {
                RttMicros = s.RttMicros,
                FractionLost = block.FractionLost,
                CumulativeLost = block.CumulativeLost,
                Jitter = block.Jitter,
            });
        }
    }

    /// <summary>RFC 3611 §4.5: RTT = now - LRR - DLRR, in 1/65536 s.</summary>
    private void OnDlrr(long nowMicros, uint lastRr, uint delay)
    {
        uint now = (uint)(SenderClock.MicrosToNtp(nowMicros) >> 16);
        uint rtt = now - lastRr - delay;
        if (rtt <= 65536 * 10)
            SetRtt(rtt * 1_000_000L / 65536);
    }

    private void SetRtt(long rttMicros)
    {
        RttMicros = rttMicros;
        foreach (var s in _recv)
            s.SetRttMicros(rttMicros);
        if (_receiveEstimator != null)
            _receiveEstimator.RttMicros = rttMicros;
        if (_sendEstimator != null)
            _sendEstimator.RttMicros = rttMicros;
    }

    // IEncodedFrameSink: a receive stream's frame becomes an event; its bytes are copied once into the frame buffer.
    void IEncodedFrameSink.OnFrame(int trackIndex, in EncodedFrame frame)
    {
        int need = _frameUsed + frame.Data.Length;
        if (need > _frameBytes.Length)
        {
            if (need > MaxFrameBytes)
            {
                Counters.EventsDropped++;
                return;
            }
            Array.Resize(ref _frameBytes, Math.Min(MaxFrameBytes, Math.Max(Math.Max(need, 256 * 1024), _frameBytes.Length * 2)));
        }
        if (!Enqueue(new PeerEvent(PeerEventKind.FrameReceived, trackIndex)
            {
                Codec = frame.Codec,
                RtpTimestamp = frame.RtpTimestamp,
                IsKeyframe = frame.IsKeyframe,
                ArrivalMicros = frame.ArrivalMicros,
                DataOffset = _frameUsed,
                DataLength = frame.Data.Length,
            }))
            return;
        frame.Data.CopyTo(_frameBytes.AsSpan(_frameUsed));
        _frameUsed = need;
    }

    void IEncodedFrameSink.OnEnd() { }

    private bool Enqueue(in PeerEvent ev)
    {
        if (_eventCount == _events.Length)
        {
            Counters.EventsDropped++;
            return false;
        }
        _events[(_eventHead + _eventCount) % _events.Length] = ev;
        _eventCount++;
        return true;
    }

    /// <summary>Frame bytes and feedback are kept while events refer to them; once all are polled the space is reused.</summary>
    private void ResetBuffersIfPolled()
    {
        if (_eventCount == 0)
        {
            _frameUsed = 0;
            _feedbackUsed = 0;
        }
    }

    // --- RTCP out: NACK, PLI, transport-cc and RR for receive streams; SR for send streams ---

    private void SendRtcp(long nowMicros, in NetAddress to)
    {
        Span<ushort> lost = stackalloc ushort[128];
        Span<FirEntry> entry = stackalloc FirEntry[1]; // out of the loop (CA2014)
        for (int i = 0; i < _recv.Length; i++)
        {
            var s = _recv[i];
            int n = s.CollectNacks(nowMicros, lost);
            if (n > 0 && _config.ReceiveTrace is { } trace)
                trace.WriteLine($"N {nowMicros} {i} {string.Join(' ', lost[..n].ToArray())}");
            if (n > 0)
            {
                var slot = _out.Reserve();
                if (!slot.IsEmpty)
                    Protect(slot, new GenericNack { SenderSsrc = _rtcpSsrc, MediaSsrc = s.Ssrc, LostSequenceNumbers = lost[..n] }.Write(slot), to);
            }
            var request = s.TakeKeyframeRequestDue(nowMicros, _config.PliIntervalMicros);
            if (request != KeyframeRequestKind.None)
            {
                var slot = _out.Reserve();
                if (!slot.IsEmpty)
                {
                    if (request == KeyframeRequestKind.Fir)
                    {
                        entry[0] = new FirEntry(s.Ssrc, s.FirSequenceNumber);
                        Protect(slot, new Fir { SenderSsrc = _rtcpSsrc, Entries = entry }.Write(slot), to);
                        Counters.FirsSent++;
                    }
                    else
                        Protect(slot, new Pli { SenderSsrc = _rtcpSsrc, MediaSsrc = s.Ssrc }.Write(slot), to);
                }
            }
        }
        if (_twcc is { PendingCount: > 0 } && nowMicros >= _nextTwccMicros)
        {
            _nextTwccMicros = nowMicros + TwccIntervalMicros;
            for (int k = 0; k < 8 && _twcc.PendingCount > 0; k++)
            {
                var slot = _out.Reserve();
                if (slot.IsEmpty)
                    break;
                Protect(slot, _twcc.Write(slot[..1100], _rtcpSsrc, FirstReceiveSsrc()), to);
            }
        }
        for (int i = 0; i < _send.Length; i++)
        {
            var s = _send[i];
            if (nowMicros < s.NextSenderReportMicros)
                continue;
            var slot = _out.Reserve();
            if (slot.IsEmpty || !s.TryWriteSenderReport(slot, nowMicros, out int o))
                continue;
            o += new SourceDescription { Ssrc = s.Ssrc, Cname = Cname }.Write(slot[o..]);
            Protect(slot, o, to);
        }
        if (nowMicros >= _nextRtcpMicros)
        {
            _nextRtcpMicros = nowMicros + RtcpIntervalMicros;
            SendReceiverReport(nowMicros, to);
        }
    }

    private uint FirstReceiveSsrc()
    {
        foreach (uint ssrc in _recvSsrc)
            if (ssrc != 0)
                return ssrc;
        return 0;
    }

    // RFC 3550 §6.1: RR first, SDES CNAME; XR RRTR asks for DLRR (our RTT as a receiver) and DLRR answers theirs (RFC 3611 §4.4-4.5).
    private void SendReceiverReport(long nowMicros, in NetAddress to)
    {
        var slot = _out.Reserve();
        if (slot.IsEmpty)
            return;
        Span<ReportBlock> blocks = stackalloc ReportBlock[Math.Min(_recv.Length, 31)];
        int nb = 0;
        for (int i = 0; i < _recv.Length && nb < blocks.Length; i++)
            if (_recvSsrc[i] != 0 && _recv[i].Ssrc != 0)
                blocks[nb++] = _recv[i].CreateReportBlock(nowMicros);
        int o = new ReceiverReport { SenderSsrc = _rtcpSsrc, ReportBlocks = blocks[..nb] }.Write(slot);
        o += new SourceDescription { Ssrc = _rtcpSsrc, Cname = Cname }.Write(slot[o..]);
        Span<DlrrSubBlock> dlrr = stackalloc DlrrSubBlock[1];
        int nd = 0;
        if (_remoteRrtrMicros != long.MinValue)
        {
            uint delay = (uint)((nowMicros - _remoteRrtrMicros) * 65536 / 1_000_000);
            dlrr[nd++] = new DlrrSubBlock(_remoteRrtrSsrc, _remoteRrtrMiddle, delay);
        }
        o += new ExtendedReport { SenderSsrc = _rtcpSsrc, HasRrtr = true, RrtrNtpTimestamp = SenderClock.MicrosToNtp(nowMicros), Dlrr = dlrr[..nd] }.Write(slot[o..]);
        if (_config.RembBps > 0 && _receiveEstimator == null)
        {
            int nv = CollectRembSsrcs();
            // RFC 4585 §3.1: feedback rides in the compound. A fixed cap when no estimator runs.
            if (nv > 0)
            {
                o += new Remb { SenderSsrc = _rtcpSsrc, BitrateBps = (ulong)_config.RembBps, Ssrcs = _rembSsrcs.AsSpan(0, nv) }.Write(slot[o..]);
                Counters.RembSent++;
                LastRembSentBps = _config.RembBps;
            }
        }
        Protect(slot, o, to);
    }

    private int CollectRembSsrcs()
    {
        int nv = 0;
        for (int i = 0; i < _recv.Length; i++)
            if (_recvSsrc[i] != 0 && _recv[i].IsVideo)
                _rembSsrcs[nv++] = _recvSsrc[i];
        return nv;
    }

    // The estimator's REMB goes out when RembScheduler says (at once on a drop under 97%, else 200 ms to 1 s), in its
    // own compound (RFC 3550 §6.1: an empty RR first) rather than waiting up to 200 ms for the next receiver report.
    private void SendRembIfDue(long nowMicros, in NetAddress to)
    {
        if (_receiveEstimator == null || _srtp == null || !_receiveEstimator.TryTakeRemb(nowMicros, out long bps))
            return;
        int nv = CollectRembSsrcs();
        var slot = nv > 0 ? _out.Reserve() : default;
        if (slot.IsEmpty)
            return; // a full queue: the scheduler repeats it within a second
        int o = new ReceiverReport { SenderSsrc = _rtcpSsrc }.Write(slot);
        o += new Remb { SenderSsrc = _rtcpSsrc, BitrateBps = (ulong)bps, Ssrcs = _rembSsrcs.AsSpan(0, nv) }.Write(slot[o..]);
        Counters.RembSent++;
        LastRembSentBps = bps;
        Protect(slot, o, to);
    }

    private void SendBye(in NetAddress to)
    {
        var slot = _out.Reserve();
        if (slot.IsEmpty)
            return;
        Span<uint> ssrcs = stackalloc uint[Math.Min(_send.Length + 1, 31)];
        int n = 0;
        ssrcs[n++] = _rtcpSsrc;
        for (int i = 0; i < _send.Length && n < ssrcs.Length; i++)
            if (_send[i].Ssrc != _rtcpSsrc)
                ssrcs[n++] = _send[i].Ssrc;
        int o = new ReceiverReport { SenderSsrc = _rtcpSsrc }.Write(slot); // a compound starts with a report
        o += new Bye { Ssrcs = ssrcs[..n] }.Write(slot[o..]);
        Protect(slot, o, to);
    }

    private void Protect(Span<byte> slot, int length, in NetAddress to)
    {
        if (length <= 0)
            return;
        if (_srtp!.ProtectRtcp(slot, length, out int protectedLength) != SrtpResult.Ok)
        {
            Counters.SrtpFailures++;
            return;
        }
        Counters.RtcpSent++;
        _out.Commit(protectedLength, to);
    }
}
