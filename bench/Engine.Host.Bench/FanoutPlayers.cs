using System.Net;
using System.Net.Sockets;
using Engine.Dtls;
using Engine.Host.Peers;
using Engine.Ice;
using Engine.Rtp.Media;

namespace Engine.Host.Bench;

/// <summary>
/// N players as the server has them: send-only ICE-lite Peers (DTLS server, one H.264 send track,
/// abs-send-time and transport-wide sequence numbers stamped), each handshaken in memory against
/// its own controlling client Peer on a fake clock, so each has its own SRTP keys. Each player's
/// route is its own loopback socket (bound, never read: the kernel drops at its full queue after
/// the delivery work, as in bench/tools/sendmmsg_floor.c).
/// </summary>
internal sealed class FanoutPlayers : IDisposable
{
    private static readonly NetAddress ServerAddress = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 3478));

    private readonly DtlsCertificate _serverCert = DtlsCertificate.Generate();
    private readonly DtlsCertificate _clientCert = DtlsCertificate.Generate();
    private readonly Socket[] _sinks;

    public FanoutPlayers(int count, long nowMicros)
    {
        Peers = new Peer[count];
        _sinks = new Socket[count];
        Now = nowMicros;
        var buffer = new byte[1500];
        for (int i = 0; i < count; i++)
        {
            var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4096 };
            sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _sinks[i] = sink;
            var clientAddress = NetAddress.FromIPEndPoint((IPEndPoint)sink.LocalEndPoint!);
            string su = $"s{i:x6}", cu = $"c{i:x6}";
            const string sp = "server-password-0123456789", cp = "client-password-0123456789";
            var server = new Peer(new PeerConfig
            {
                Role = PeerRole.IceLiteServer,
                LocalUfrag = su, LocalPwd = sp, RemoteUfrag = cu,
                Certificate = _serverCert, RemoteFingerprint = _clientCert.Fingerprint,
                SendTracks = [new PeerSendTrack { Mid = "0", Ssrc = 0x10000u + (uint)i, PayloadType = 96, Codec = MediaCodec.H264, RtxSsrc = 0x20000u + (uint)i, RtxPayloadType = 97, ForwardOnly = true }],
                AbsSendTimeExtensionId = 3, TransportCcExtensionId = 5,
                ConsentTimeoutMicros = long.MaxValue / 4, // nobody refreshes consent during the run
                // No feedback comes back here: a start over the 9.5 Mbps each player is fed, so its pacer (2.5 x the target)
                // lets every packet go at once, as a player's does once its estimate has risen. The pacer's work is measured, not its hold.
                SendEstimator = new Engine.Gcc.SendSideEstimatorOptions(50_000, 50_000_000, 50_000_000),
                Seed = 1000 + i,
            }, Now);
            using var client = new Peer(new PeerConfig
            {
                Role = PeerRole.ControllingClient,
                LocalUfrag = cu, LocalPwd = cp, RemoteUfrag = su, RemotePwd = sp,
                RemoteCandidate = ServerAddress,
                Certificate = _clientCert, RemoteFingerprint = _serverCert.Fingerprint,
                ReceiveTracks = [new PeerReceiveTrack { Mid = "0", Ssrc = 0x10000u + (uint)i, PayloadType = 96, Codec = MediaCodec.H264 }],
                AbsSendTimeExtensionId = 3, TransportCcExtensionId = 5,
                Seed = 5000 + i,
            }, Now);
            Handshake(server, client, clientAddress, buffer);
            while (server.TryPollEvent(out _)) { }
            while (server.TryPollTransmit(buffer, out _, out _)) { }
            Peers[i] = server;
        }
        Profile = Peers[0].Dtls.SrtpProfile;
    }

    public Peer[] Peers { get; }
    public long Now { get; private set; }
    /// <summary>The SRTP protection profile the handshakes chose (RFC 5764 §4.1.2 value).</summary>
    public ushort Profile { get; }

    private void Handshake(Peer server, Peer client, NetAddress clientAddress, byte[] buffer)
    {
        for (int guard = 0; guard < 100_000; guard++)
        {
            if (server.State == PeerState.Connected && client.State == PeerState.Connected)
                return;
            bool moved = false;
            while (client.TryPollTransmit(buffer, out int n, out _))
            {
                server.HandleDatagram(buffer.AsSpan(0, n), clientAddress, Now);
                moved = true;
            }
            while (server.TryPollTransmit(buffer, out int n, out _))
            {
                client.HandleDatagram(buffer.AsSpan(0, n), ServerAddress, Now);
                moved = true;
            }
            while (client.TryPollEvent(out _)) { }
            if (moved)
                continue;
            Now = Math.Max(Now + 1, Math.Min(client.NextTimeoutMicros, server.NextTimeoutMicros));
            if (client.NextTimeoutMicros <= Now)
                client.HandleTimeout(Now);
            if (server.NextTimeoutMicros <= Now)
                server.HandleTimeout(Now);
        }
        throw new InvalidOperationException($"handshake did not finish: server {server.State}, client {client.State}");
    }

    public void Dispose()
    {
        foreach (var p in Peers)
            p?.Dispose();
        foreach (var s in _sinks)
            s?.Dispose();
        _serverCert.Dispose();
        _clientCert.Dispose();
    }
}
