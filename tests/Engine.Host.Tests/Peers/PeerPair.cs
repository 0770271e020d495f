using System.Net;
using Engine.Dtls;
using Engine.Host.Peers;
using Engine.Ice;
using Engine.Rtp.Media;

namespace Engine.Host.Tests.Peers;

/// <summary>
/// A controlling client Peer and an ICE-lite server Peer joined by a <see cref="MemoryLink"/>,
/// driven on a fake clock: each step jumps to the earliest timer or delivery. Events are copied
/// out (frames with their bytes) for the tests to look at.
/// </summary>
internal sealed class PeerPair : IDisposable
{
    public sealed record ReceivedEvent(PeerEventKind Kind, int Track, long AtMicros, byte[]? Data, uint RtpTimestamp, bool IsKeyframe, string? Reason, long RttMicros, int FeedbackCount);

    public static readonly NetAddress ClientAddress = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 50000));
    public static readonly NetAddress ServerAddress = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 3478));

    public const uint ClientVideoSsrc = 0x1111, ClientVideoRtxSsrc = 0x1112, ClientAudioSsrc = 0x2222;
    public const uint ServerVideoSsrc = 0x3333, ServerVideoRtxSsrc = 0x3334, ServerAudioSsrc = 0x4444;

    private readonly DtlsCertificate _clientCert = DtlsCertificate.Generate();
    private readonly DtlsCertificate _serverCert = DtlsCertificate.Generate();
    private readonly byte[] _buffer = new byte[1500];

    /// <summary>
    /// A send-side start high enough that the server's pacer (2.5 x the target) never holds what a test writes faster
    /// than real time without feedback; tests of congestion control pass <see cref="Engine.Gcc.SendSideEstimatorOptions.Default"/>.
    /// </summary>
    public static readonly Engine.Gcc.SendSideEstimatorOptions FastStart = new(50_000, 20_000_000, 20_000_000);

    /// <param name="serverSendEstimator">The server's (the player's) send-side estimator; null: <see cref="FastStart"/>.</param>
    /// <param name="clientGccPacer">The client (a browser) paces with a burst pacer by default: a source that ignores congestion control.</param>
    public PeerPair(int seed, bool serverLearnsSsrcs = true, Engine.Gcc.ReceiveSideEstimatorOptions? serverReceiveEstimator = null,
        long serverRembBps = 0, IPeerRtpObserver? clientRtpObserver = null, Engine.Gcc.SendSideEstimatorOptions? serverSendEstimator = null,
        bool clientGccPacer = false, PeerSendTrack[]? serverSend = null)
    {
        Link = new MemoryLink(seed);
        var clientSend = new[]
        {
            new PeerSendTrack { Mid = "0", Ssrc = ClientVideoSsrc, RtxSsrc = ClientVideoRtxSsrc, PayloadType = 96, RtxPayloadType = 97, Codec = MediaCodec.H264 },
            new PeerSendTrack { Mid = "1", Ssrc = ClientAudioSsrc, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
        };
        serverSend ??= new[]
        {
            new PeerSendTrack { Mid = "0", Ssrc = ServerVideoSsrc, RtxSsrc = ServerVideoRtxSsrc, PayloadType = 96, RtxPayloadType = 97, Codec = MediaCodec.H264 },
            new PeerSendTrack { Mid = "1", Ssrc = ServerAudioSsrc, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
        };
        // The server learns the client's SSRCs (by payload type, RTX by its payload type); the client is told the server's.
        var serverReceive = new[]
        {
            new PeerReceiveTrack { Mid = "0", Ssrc = serverLearnsSsrcs ? 0 : ClientVideoSsrc, PayloadType = 96, RtxPayloadType = 97, Codec = MediaCodec.H264 },
            new PeerReceiveTrack { Mid = "1", Ssrc = serverLearnsSsrcs ? 0 : ClientAudioSsrc, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
        };
        var clientReceive = new[]
        {
            new PeerReceiveTrack { Mid = "0", Ssrc = ServerVideoSsrc, RtxSsrc = ServerVideoRtxSsrc, PayloadType = 96, RtxPayloadType = 97, Codec = MediaCodec.H264 },
            new PeerReceiveTrack { Mid = "1", Ssrc = ServerAudioSsrc, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
        };
        Server = new Peer(new PeerConfig
        {
            Role = PeerRole.IceLiteServer,
            LocalUfrag = "srvU", LocalPwd = "server-password-0123456789",
            RemoteUfrag = "cliU", RemotePwd = "client-password-0123456789",
            Certificate = _serverCert, RemoteFingerprint = _clientCert.Fingerprint,
            ReceiveTracks = serverReceive, SendTracks = serverSend,
            AbsSendTimeExtensionId = 3, TransportCcExtensionId = 5,
            ReceiveEstimator = serverReceiveEstimator, RembBps = serverRembBps,
            SendEstimator = serverSendEstimator ?? FastStart,
            Seed = seed + 1,
        }, 0);
        Client = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            LocalUfrag = "cliU", LocalPwd = "client-password-0123456789",
            RemoteUfrag = "srvU", RemotePwd = "server-password-0123456789",
            RemoteCandidate = ServerAddress,
            Certificate = _clientCert, RemoteFingerprint = _serverCert.Fingerprint,
            ReceiveTracks = clientReceive, SendTracks = clientSend,
            AbsSendTimeExtensionId = 3, TransportCcExtensionId = 5,
            RtpObserver = clientRtpObserver,
            GccPacer = clientGccPacer,
            Seed = seed + 2,
        }, 0);
    }

    public MemoryLink Link { get; }
    public Peer Client { get; }
    public Peer Server { get; }
    public long Now { get; private set; }
    public List<ReceivedEvent> ClientEvents { get; } = [];
    public List<ReceivedEvent> ServerEvents { get; } = [];

    /// <summary>Runs until <paramref name="untilMicros"/>; <paramref name="tick"/> (media writes) is called at every multiple of <paramref name="tickMicros"/>.</summary>
    public void Run(long untilMicros, Action<long>? tick = null, long tickMicros = 10_000, Func<bool>? stop = null)
    {
        long nextTick = tick == null ? long.MaxValue : Now;
        for (int guard = 0; guard < 5_000_000; guard++)
        {
            if (stop != null && stop())
                return;
            long next = Math.Min(Math.Min(Client.NextTimeoutMicros, Server.NextTimeoutMicros), Link.NextDeliveryMicros);
            next = Math.Min(next, nextTick);
            if (next > untilMicros)
            {
                Now = untilMicros;
                return;
            }
            Now = Math.Max(Now, next);
            if (Now >= nextTick)
            {
                tick!(Now);
                nextTick += tickMicros;
            }
            while (Link.TryReceive(Now, out var d))
            {
                var peer = d.To == ServerAddress ? Server : Client;
                peer.HandleDatagram(d.Data, d.From, Now);
            }
            if (Client.NextTimeoutMicros <= Now)
                Client.HandleTimeout(Now);
            if (Server.NextTimeoutMicros <= Now)
                Server.HandleTimeout(Now);
            Flush();
            // A timer that stays due (nothing to do at once) must not stall the clock.
            if (Math.Min(Client.NextTimeoutMicros, Server.NextTimeoutMicros) <= Now && Link.NextDeliveryMicros > Now && nextTick > Now)
                Now += 100;
        }
        throw new InvalidOperationException("the pair did not settle");
    }

    /// <summary>Moves every pending datagram onto the link and every event into the lists.</summary>
    public void Flush()
    {
        while (Client.TryPollTransmit(_buffer, out int n, out var to))
            Link.Send(ClientAddress, to, _buffer.AsSpan(0, n), Now);
        while (Server.TryPollTransmit(_buffer, out int n, out var to))
            Link.Send(ServerAddress, to, _buffer.AsSpan(0, n), Now);
        Drain(Client, ClientEvents);
        Drain(Server, ServerEvents);
    }

    private void Drain(Peer peer, List<ReceivedEvent> list)
    {
        while (peer.TryPollEvent(out var ev))
        {
            byte[]? data = ev.Kind == PeerEventKind.FrameReceived ? peer.GetFrameData(ev).ToArray() : null;
            list.Add(new ReceivedEvent(ev.Kind, ev.Track, Now, data, ev.RtpTimestamp, ev.IsKeyframe, ev.Reason, ev.RttMicros, ev.FeedbackCount));
        }
    }

    public void Connect(long timeoutMicros = 20_000_000)
    {
        Run(Now + timeoutMicros, stop: () => Client.State == PeerState.Connected && Server.State == PeerState.Connected);
        Flush();
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
        _clientCert.Dispose();
        _serverCert.Dispose();
    }
}
