using Engine.Host.Tests.Peers;
using System.Buffers.Binary;
using System.Net;
using Engine.Dtls;
using Engine.Host.Media;
using Engine.Host.Peers;
using Engine.Host.Playback;
using Engine.Host.Sessions;
using Engine.Ice;
using Engine.Rtp;
using Engine.Rtp.Media;
using Engine.Rtp.Sdp;

namespace Engine.Host.Tests.Playback;

/// <summary>
/// The per-packet fan-out of playback allocates nothing after warm-up, on the real path: a
/// publisher packet reaches <see cref="PublishSession"/> (as its peer's RTP observer), is stored
/// once in the track's shared history, keyframe-checked once, and each of N connected
/// <see cref="PlaySession"/>s forwards its id (SSRC, sequence, timestamp rewritten) and sends it
/// (paced, stamped, SRTP-protected) when the loop flushes it.
/// </summary>
public sealed class ForwardAllocationTests : IDisposable
{
    private const int Players = 4;
    private static readonly NetAddress Server = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 3478));

    private readonly DtlsCertificate _serverCert = DtlsCertificate.Generate(), _pubCert = DtlsCertificate.Generate(), _playCert = DtlsCertificate.Generate();

    private static byte[] Packet(ushort seq, uint timestamp, bool marker, bool keyframe)
    {
        var p = new byte[12 + 1100];
        p[0] = 0x80;
        p[1] = (byte)((marker ? 0x80 : 0) | 102);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), 0xabcdef01);
        p[12] = 0x7c; // FU-A
        p[13] = (byte)(keyframe ? 0x85 : 0x01);
        for (int i = 14; i < p.Length; i++)
            p[i] = (byte)i;
        return p;
    }

    private PublishSession NewPublisher()
    {
        var tracks = new List<NegotiatedTrack> { new("0", MediaKind.Video, "H264", 102, 90000, 1, "42e01f", [0xabcdef01]) };
        var negotiation = new PublishNegotiation.Result(new SessionDescription(), tracks, "pubC", "pub-client-password-0123",
            [new SdpFingerprint("sha-256", _pubCert.Fingerprint.Value.ToArray())], false, new Dictionary<string, int>());
        return new PublishSession("pub", "cam", "whip", negotiation, "pubS", "publish-server-password0", _serverCert, new NullFrameSink(),
            new SessionOptions(500_000, false, 0, 0, false), 0) { MarkDirty = _ => { } };
    }

    private (PlaySession Player, Peer Client) NewPlayer(PublishSession publisher, int i, long now)
    {
        var player = new PlaySession($"ply{i}", "cam", "whep", publisher, new PeerConfig
        {
            Role = PeerRole.IceLiteServer,
            LocalUfrag = $"plyS{i}", LocalPwd = "play-server-password-0123",
            RemoteUfrag = $"plyC{i}",
            Certificate = _serverCert, RemoteFingerprint = _playCert.Fingerprint,
            SendTracks = [new PeerSendTrack { Mid = "0", Ssrc = 0x5550u + (uint)i, PayloadType = 96, Codec = MediaCodec.H264, RtxSsrc = 0x6660u + (uint)i, RtxPayloadType = 97, ForwardOnly = true }],
            AbsSendTimeExtensionId = 3, TransportCcExtensionId = 5,
            SendEstimator = PeerPair.FastStart, // no feedback comes back here: a start the pacer does not hold 1000 packets/s under
            Seed = 20 + i,
        }, [new PlayTrack("0", MediaKind.Video, "H264", 0, 96, 90000, 0x5550u + (uint)i, 0x6660u + (uint)i, 97)], now);
        var client = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            LocalUfrag = $"plyC{i}", LocalPwd = "play-client-password-0123",
            RemoteUfrag = $"plyS{i}", RemotePwd = "play-server-password-0123", RemoteCandidate = Server,
            Certificate = _playCert, RemoteFingerprint = _serverCert.Fingerprint,
            ReceiveTracks = [new PeerReceiveTrack { Mid = "0", Ssrc = 0x5550u + (uint)i, PayloadType = 96, Codec = MediaCodec.H264 }],
            Seed = 40 + i,
        }, now);
        return (player, client);
    }

    /// <summary>ICE and DTLS between a player and its client, datagrams handed over directly; the player attaches at its first timer.</summary>
    private static void Handshake(PlaySession player, Peer client, NetAddress clientAddress, ref long now)
    {
        var buffer = new byte[1500];
        for (int guard = 0; guard < 100_000; guard++)
        {
            if (player.Peer.State == PeerState.Connected && client.State == PeerState.Connected)
                return;
            bool moved = false;
            while (client.TryPollTransmit(buffer, out int n, out _))
            {
                player.HandleDatagram(buffer.AsSpan(0, n), clientAddress, now);
                moved = true;
            }
            while (player.TryPollTransmit(buffer, out int n, out _))
            {
                client.HandleDatagram(buffer.AsSpan(0, n), Server, now);
                moved = true;
            }
            while (client.TryPollEvent(out _)) { }
            if (moved)
                continue;
            now = Math.Max(now + 1, Math.Min(client.NextTimeoutMicros, player.NextTimeoutMicros));
            if (client.NextTimeoutMicros <= now)
                client.HandleTimeout(now);
            if (player.NextTimeoutMicros <= now)
                player.HandleTimeout(now);
        }
        throw new InvalidOperationException($"handshake did not finish: player {player.Peer.State}, client {client.State}");
    }

    [Fact]
    public void PublisherPacketToNPlayersAllocatesNothing()
    {
        var publisher = NewPublisher();
        var players = new (PlaySession Player, Peer Client)[Players];
        try
        {
            long now = 1_000_000;
            for (int i = 0; i < Players; i++)
            {
                players[i] = NewPlayer(publisher, i, now);
                Handshake(players[i].Player, players[i].Client, NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse($"10.0.1.{i + 1}"), 50000)), ref now);
            }
            Assert.Equal(Players, publisher.PlayerCount);
            var history = publisher.GetForwardHistory(0);
            Assert.NotNull(history);
            var observer = (IPeerRtpObserver)publisher;
            var packets = Enumerable.Range(0, 400).Select(i => Packet((ushort)(1000 + i), (uint)(i / 10 * 3000), i % 10 == 9, i % 100 == 0)).ToArray();
            var buffer = new byte[1500];
            long sent = 0;

            void Fan(int start, int end)
            {
                for (int k = start; k < end; k++)
                {
                    now += 1_000;
                    RtpPacketView.TryRead(packets[k], out var view);
                    observer.OnRtpReceived(0, packets[k], view, now);
                    foreach (var (player, _) in players)
                    {
                        if (player.NextTimeoutMicros <= now)
                            player.HandleTimeout(now);
                        for (int guard = 0; guard < 64 && player.TryPollTransmit(buffer, out _, out _); guard++)
                            sent++;
                    }
                }
            }
            Fan(0, 200);
            long sentWarm = sent;
            // Fewest bytes of 20 windows of 10 packets (10 ms): a per-packet allocation shows in each; a
            // player's status snapshot (one per 250 ms, PlaySession.PublishStatus) in a few at most.
            long allocated = long.MaxValue;
            for (int window = 0; window < 20; window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                Fan(200 + window * 10, 210 + window * 10);
                allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Console.WriteLine($"forward: {allocated} bytes (fewest of 20 windows of 10 packets x {Players} players; {sent - sentWarm} datagrams out)");
            Assert.Equal(0, allocated);
            Assert.Equal(400, history!.Stored); // once per packet, not per player
            // Every packet left every player (the pacer may hold the last few).
            Assert.True(sent - sentWarm >= 200 * Players - 20 * Players, $"{sent - sentWarm} datagrams out of {200 * Players}");
            foreach (var (player, _) in players)
            {
                Assert.False(player.WaitingForKeyframe);
                Assert.Equal(0, player.Peer.Counters.WritesRefused);
                Assert.True(player.Peer.GetSendStream(0).PacketsSent >= 390, $"{player.Peer.GetSendStream(0).PacketsSent} sent");
                // Headers and shared ids only: no payload copies.
                Assert.True(player.Peer.GetSendStream(0).HistoryBytes < 64 * 1024, $"{player.Peer.GetSendStream(0).HistoryBytes} B");
            }
        }
        finally
        {
            foreach (var (player, client) in players)
            {
                player?.Peer.Dispose();
                client?.Dispose();
            }
            publisher.Peer.Dispose();
        }
    }

    public void Dispose()
    {
        _serverCert.Dispose();
        _pubCert.Dispose();
        _playCert.Dispose();
    }
}
