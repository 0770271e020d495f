using Engine.Dtls;
using Engine.Ice;

namespace Engine.Host.Peers;

/// <summary>Everything a <see cref="Peer"/> needs from signaling, fixed at construction.</summary>
public sealed class PeerConfig
{
    public PeerRole Role { get; init; }
    public string LocalUfrag { get; init; } = "";
    public string LocalPwd { get; init; } = "";
    public string RemoteUfrag { get; init; } = "";
    /// <summary>Signs the controlling side's checks; unused by the lite side.</summary>
    public string RemotePwd { get; init; } = "";
    /// <summary>The controlling side's one remote candidate; unused by the lite side (it learns the path from checks).</summary>
    public NetAddress RemoteCandidate { get; init; }
    public required DtlsCertificate Certificate { get; init; }
    public required DtlsFingerprint RemoteFingerprint { get; init; }
    public IReadOnlyList<PeerReceiveTrack> ReceiveTracks { get; init; } = [];
    public IReadOnlyList<PeerSendTrack> SendTracks { get; init; } = [];

    // RTP header extension ids (RFC 8285), one map for the transport; 0 = not negotiated.
    public int MidExtensionId { get; init; }
    public int RidExtensionId { get; init; }
    public int AbsSendTimeExtensionId { get; init; }
    public int TransportCcExtensionId { get; init; }

    /// <summary>SSRC of our RTCP when no send track gives one; 0 draws one from <see cref="Seed"/>.</summary>
    public uint RtcpSsrc { get; init; }
    /// <summary>Seeds sequence numbers, SSRC draws, ICE transaction ids and timer jitter; random when null.</summary>
    public int? Seed { get; init; }
    /// <summary>A PLI is repeated at most this often while a keyframe is missing.</summary>
    public long PliIntervalMicros { get; init; } = 500_000;
    public long ConsentTimeoutMicros { get; init; } = IceLiteAgent.DefaultConsentTimeoutMicros;
    /// <summary>
    /// Test knob ([RTP] RTP_PLAY_LOSS): this percentage of outgoing media packets, retransmissions
    /// included, is dropped after stamping, as if the network lost them. DTLS, STUN and RTCP always leave.
    /// </summary>
    public int SimulatedSendLossPercent { get; init; }
    /// <summary>Seeds the simulated send loss's lottery ([RTP] RTP_PLAY_LOSS_SEED).</summary>
    public int SimulatedSendLossSeed { get; init; } = 1;
    /// <summary>DTLS flight retransmission start (RFC 6347 §4.2.4.1 suggests 1 s).</summary>
    public long DtlsInitialRetransmitMicros { get; init; } = 1_000_000;

    /// <summary>
    /// The DTLS role; null: server on the lite side, client on the controlling side. A lite side
    /// whose offer said setup:passive is the client and starts at the first answered check.
    /// </summary>
    public DtlsRole? DtlsRole { get; init; }
    /// <summary>
    /// Receives the frames of the receive tracks directly, on the thread that drives the peer,
    /// instead of FrameReceived events (no copy into the peer's frame buffer).
    /// </summary>
    public Engine.Rtp.Media.IEncodedFrameSink? FrameSink { get; init; }
    /// <summary>Sees every demuxed RTP packet (RTX already unwrapped) before its receive stream.</summary>
    public IPeerRtpObserver? RtpObserver { get; init; }
    /// <summary>
    /// Debug only (RTP_RECEIVE_TRACE): a line per received packet, NACK sent and repair counter change
    /// of the receive streams, to follow each lost sequence number. Allocates per line; null in service.
    /// </summary>
    public TextWriter? ReceiveTrace { get; init; }
    /// <summary>REMB (draft-alvestrand-rmcat-remb) for the receive video SSRCs in every receiver report; 0: none.</summary>
    public long RembBps { get; init; }
    /// <summary>
    /// Receive-side estimate (abs-send-time of the receive video packets, draft-ietf-rmcat-gcc-02 §5) whose REMB
    /// replaces the fixed <see cref="RembBps"/> (RTP_AUTO_BITRATE=1); needs <see cref="AbsSendTimeExtensionId"/>,
    /// without it the fixed value stays. null: no estimator.
    /// </summary>
    public Engine.Gcc.ReceiveSideEstimatorOptions? ReceiveEstimator { get; init; }
    /// <summary>
    /// Send-side estimate from the transport-cc feedback, RTT and REMB of what we send (players); runs when there are
    /// send tracks (it needs <see cref="TransportCcExtensionId"/> for feedback); null: none.
    /// </summary>
    public Engine.Gcc.SendSideEstimatorOptions? SendEstimator { get; init; } = Engine.Gcc.SendSideEstimatorOptions.Default;
    /// <summary>
    /// With a send estimator and transport-cc negotiated: one congestion-controlled pacer for all send tracks (src/Gcc's Pacer at 2.5 x the target,
    /// audio first, resends before new video, probe padding on RTX), video paused under 80 kbps. false: a burst pacer per
    /// track that does not follow the target (a test source that ignores congestion control).
    /// </summary>
    public bool GccPacer { get; init; } = true;
    /// <summary>A packet that waited in the pacer longer than this is dropped and counted (libwebrtc bounds its queue at 2 s too).</summary>
    public long PacerMaxQueueMicros { get; init; } = Engine.Gcc.Pacer.MaxQueueMicros;
    /// <summary>Preallocated control datagrams (STUN, DTLS, RTCP), 1500 bytes each; a full queue drops and counts.</summary>
    public int TransmitSlots { get; init; } = 64;
    /// <summary>Events kept until polled.</summary>
    public int EventCapacity { get; init; } = 512;
}
