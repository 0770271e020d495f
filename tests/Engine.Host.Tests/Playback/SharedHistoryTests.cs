using System.Buffers.Binary;
using Engine.Host.Peers;
using Engine.Host.Tests.Peers;
using Engine.Rtp;
using Engine.Rtp.Send;

namespace Engine.Host.Tests.Playback;

/// <summary>
/// Players fed from one <see cref="SharedPacketHistory"/> (as a publisher track feeds its players),
/// each with its own SRTP keys and sequence numbers, repaired by NACK from the shared payloads
/// through real Peers in memory: what the client decrypts from a resend is the packet it lost.
/// </summary>
public class SharedHistoryTests
{
    private sealed class Recorder : IPeerRtpObserver
    {
        public readonly List<byte[]> Video = [];

        public void OnRtpReceived(int receiveTrack, ReadOnlySpan<byte> rtp, in RtpPacketView packet, long nowMicros)
        {
            if (receiveTrack == 0)
                Video.Add(rtp.ToArray());
        }
    }

    private static byte[] Source(int i)
    {
        var p = new byte[12 + 1000 + i];
        new Random(i).NextBytes(p.AsSpan(12));
        p[0] = 0x80;
        p[1] = 102 | 0x80;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(40000 + i));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), (uint)(i * 3000));
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), 0xabcdef01);
        // A non-IDR slice in one NAL unit (RFC 6184 §5.6), a frame each: the client asks for nothing before the first.
        p[12] = 0x41;
        p[13] = 0x80; // first_mb_in_slice ue(v) = 0: a frame's start
        return p;
    }

    private static bool IsServerVideo(in MemoryLink.Datagram d, ushort seq) =>
        d.From == PeerPair.ServerAddress && d.Data.Length > 12 && d.Data[0] >> 6 == 2 && (d.Data[1] & 0x7f) == 96
        && BinaryPrimitives.ReadUInt32BigEndian(d.Data.AsSpan(8)) == PeerPair.ServerVideoSsrc
        && BinaryPrimitives.ReadUInt16BigEndian(d.Data.AsSpan(2)) == seq;

    private static RtpPacketView Parse(byte[] b)
    {
        Assert.True(RtpPacketView.TryRead(b, out var v));
        return v;
    }

    [Fact]
    public void TwoPlayersEachRepairTheirOwnLossFromTheSharedRingWithTheBytesFirstSent()
    {
        var ring = new SharedPacketHistory(1024, Peer.MaxSendPacketSize - RtpPacketView.FixedHeaderLength);
        var recorders = new[] { new Recorder(), new Recorder() };
        var pairs = new[] { new PeerPair(500, clientRtpObserver: recorders[0]), new PeerPair(600, clientRtpObserver: recorders[1]) };
        try
        {
            foreach (var p in pairs)
            {
                p.Connect();
                p.Link.DelayMicros = 10_000;
            }
            var start = pairs.Select(p => p.Server.GetSendStream(0).NextSequenceNumber).ToArray();
            Assert.NotEqual(start[0], start[1]);
            // Each player loses a different source packet (10 and 20), each under its own sequence number.
            int[] lostIndex = [10, 20];
            var held = new byte[2][];
            for (int k = 0; k < 2; k++)
            {
                int player = k;
                ushort target = (ushort)(start[k] + lostIndex[k]);
                pairs[k].Link.Filter = d =>
                {
                    if (held[player] != null || !IsServerVideo(d, target))
                        return true;
                    held[player] = d.Data; // as it left the player (SRTP-protected), kept for later
                    return false;
                };
            }
            for (int i = 0; i < 40; i++)
            {
                long id = ring.Store(Source(i));
                foreach (var p in pairs)
                {
                    p.Run(p.Now + 5_000);
                    Assert.True(p.Server.WriteRtp(0, ring, id, p.Now));
                    p.Flush();
                }
            }
            foreach (var p in pairs)
                p.Run(p.Now + 500_000);

            for (int k = 0; k < 2; k++)
            {
                var tx = pairs[k].Server.GetSendStream(0);
                Assert.NotNull(held[k]);
                Assert.True(tx.Retransmitted >= 1, $"player {k}: nacks {tx.NacksReceived}, resent {tx.Retransmitted}");
                Assert.Equal(0, tx.MissingFromHistory);
                ushort target = (ushort)(start[k] + lostIndex[k]);
                var repaired = recorders[k].Video.Where(b => Parse(b).SequenceNumber == target).ToList();
                Assert.NotEmpty(repaired); // the RTX, rebuilt as the original by the client
                Assert.Equal(40, recorders[k].Video.Select(b => Parse(b).SequenceNumber).Distinct().Count());
                // What the player first sent, decrypted by the same client now: the same packet.
                int before = recorders[k].Video.Count;
                pairs[k].Client.HandleDatagram(held[k]!, PeerPair.ServerAddress, pairs[k].Now);
                Assert.Equal(before + 1, recorders[k].Video.Count);
                var original = recorders[k].Video[^1];
                var r = repaired[0];
                var vo = Parse(original);
                var vr = Parse(r);
                Assert.Equal(target, vo.SequenceNumber);
                Assert.Equal(original.Length, r.Length);
                Assert.Equal(original[..12], r[..12]); // V, M, PT, sequence, timestamp, SSRC
                Assert.Equal(vo.ExtensionProfile, vr.ExtensionProfile);
                Assert.Equal(vo.HeaderLength, vr.HeaderLength); // the extension values (send time, transport-wide sequence) are stamped anew as it leaves
                Assert.Equal(original[vo.HeaderLength..], r[vr.HeaderLength..]);
                Assert.Equal(Source(lostIndex[k])[12..], r[vr.HeaderLength..]);
            }
        }
        finally
        {
            foreach (var p in pairs)
                p.Dispose();
        }
    }

    [Fact]
    public void ANackForAPacketTheSharedRingOverwroteIsCountedAndNotAnswered()
    {
        var ring = new SharedPacketHistory(16, Peer.MaxSendPacketSize - RtpPacketView.FixedHeaderLength);
        var recorder = new Recorder();
        using var pair = new PeerPair(700, clientRtpObserver: recorder);
        pair.Connect();
        pair.Link.DelayMicros = 50_000; // 100 ms RTT: 50 packets at 2 ms pass before the NACK arrives
        ushort target = (ushort)(pair.Server.GetSendStream(0).NextSequenceNumber + 5);
        bool dropped = false;
        pair.Link.Filter = d =>
        {
            if (dropped || !IsServerVideo(d, target))
                return true;
            dropped = true;
            return false;
        };
        for (int i = 0; i < 100; i++)
        {
            long id = ring.Store(Source(i));
            pair.Run(pair.Now + 2_000);
            Assert.True(pair.Server.WriteRtp(0, ring, id, pair.Now));
            pair.Flush();
        }
        pair.Run(pair.Now + 300_000);
        var tx = pair.Server.GetSendStream(0);
        Assert.True(dropped);
        Assert.True(tx.NacksReceived >= 1);
        Assert.True(tx.SharedOverwritten >= 1, $"overwritten {tx.SharedOverwritten}, missing {tx.MissingFromHistory}");
        Assert.Equal(tx.SharedOverwritten, tx.MissingFromHistory);
        Assert.Equal(0, tx.Retransmitted);
        Assert.DoesNotContain(recorder.Video, b => Parse(b).SequenceNumber == target);
        Assert.Equal(99, recorder.Video.Count);
    }
}
