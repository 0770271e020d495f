using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Engine.Host.Peers;
using Engine.Host.Tests.Peers;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Rtp;
using Engine.Rtp.Send;

namespace Engine.Host.Tests.Playback;

/// <summary>
/// Issue 14 §4: 0 bytes allocated per forwarded packet on the fan-out path, one input packet to
/// N = 50 connected players (each its own DTLS handshake and SRTP keys): the packet stored once in
/// the track's <see cref="SharedPacketHistory"/>, then per player WriteRtp of its id (rewrite, its
/// own header history, pacer), the timer when due, TryPollTransmit straight into a
/// <see cref="UdpBatch"/> slot (stamped, SRTP-protected), and sendmmsg 64 at a time to a loopback
/// socket, as the media loop flushes. The pairs' addresses are in-memory ones (10.0.0.x), so every
/// datagram goes to the loopback sink instead of its player's address.
/// </summary>
public class FanoutAllocationTests
{
    private const int Players = 50;

    [Fact]
    public void OnePacketToFiftyPlayersAllocatesNothing()
    {
        var pairs = new PeerPair[Players];
        using var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
        using var batch = new UdpBatch(64, MediaLoop.MaxDatagram);
        try
        {
            for (int i = 0; i < Players; i++)
            {
                pairs[i] = new PeerPair(300 + i);
                pairs[i].Connect();
            }
            sink.ReceiveBufferSize = 4096;
            sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var sinkAddress = NetAddress.FromIPEndPoint((IPEndPoint)sink.LocalEndPoint!);
            long now = pairs.Max(p => p.Now);
            var packet = new byte[12 + 1160];
            packet[0] = 0x80;
            BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), 0xabcdef01);
            packet[12] = 0x7c; // FU-A, non-IDR (RFC 6184 §5.8)
            packet[13] = 0x01;
            ushort seq = 1000;
            var ring = new SharedPacketHistory(1024, Peer.MaxSendPacketSize - RtpPacketView.FixedHeaderLength);
            long playerPackets = 0, datagrams = 0, sent = 0, sendErrors = 0;

            void Send()
            {
                if (batch.Count == 0)
                    return;
                sent += batch.Send(sender.SafeHandle, out int errors);
                sendErrors += errors; // the sink is never read: the kernel drops at its full queue, the send succeeds
            }

            void Fan(int packets)
            {
                for (int k = 0; k < packets; k++)
                {
                    now += 1_000;
                    seq++;
                    packet[1] = (byte)(96 | (seq % 10 == 9 ? 0x80 : 0));
                    BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), seq);
                    BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), (uint)(seq / 10 * 3000));
                    long id = ring.Store(packet); // once, as PublishSession.Forward does
                    foreach (var pair in pairs)
                    {
                        var player = pair.Server;
                        if (player.WriteRtp(0, ring, id, now))
                            playerPackets++;
                        if (player.NextTimeoutMicros <= now)
                            player.HandleTimeout(now);
                        for (int guard = 0; guard < 64; guard++)
                        {
                            if (batch.Count == batch.Capacity)
                                Send();
                            if (!player.TryPollTransmit(batch.NextBuffer, out int length, out _))
                                break;
                            batch.TryAdd(length, sinkAddress, ipv6Socket: false);
                            datagrams++;
                        }
                    }
                    Send();
                }
            }

            Fan(100); // warm-up: JIT, first RTCP, the sockets' first sends
            // Fewest bytes of four windows: a per-packet allocation shows in each; a one-off of the runtime in one at most.
            long allocated = long.MaxValue;
            long playerPacketsBefore = playerPackets, datagramsBefore = datagrams;
            for (int window = 0; window < 4; window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                Fan(50);
                allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Console.WriteLine($"fan-out: {allocated} bytes (fewest of 4 windows of 50 packets x {Players} players); " +
                $"{playerPackets - playerPacketsBefore} player-packets, {datagrams - datagramsBefore} datagrams, {sent} sent, {sendErrors} send errors");
            Assert.Equal(0, allocated);
            Assert.Equal(4 * 50 * Players, playerPackets - playerPacketsBefore);
            Assert.True(datagrams - datagramsBefore >= 4 * 50 * Players, $"{datagrams - datagramsBefore} datagrams");
            Assert.Equal(0, sendErrors);
            Assert.All(pairs, p => Assert.Equal(0, p.Server.Counters.WritesRefused));
            Assert.All(pairs, p => Assert.Equal(0, p.Server.Counters.SrtpFailures));
            Assert.All(pairs, p => Assert.Equal(0, p.Server.GetSendStream(0).EvictedBeforeSend));
        }
        finally
        {
            foreach (var p in pairs)
                p?.Dispose();
        }
    }
}
