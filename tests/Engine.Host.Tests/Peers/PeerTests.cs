using Engine.Host.Peers;
using Engine.Rtp.Media;

namespace Engine.Host.Tests.Peers;

/// <summary>A controlling client Peer against an ICE-lite server Peer in memory, on a fake clock, seeded.</summary>
public class PeerTests
{
    private static readonly byte[][] Video = PeerTestData.AccessUnits("baseline-320x240.h264").Select(PeerTestData.AnnexB).ToArray();

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 0.1)]
    [InlineData(3, 0.2)]
    public void Handshake_IceDtlsSrtp_ReachesConnectedOnBothSides(int seed, double impairment)
    {
        using var pair = new PeerPair(seed);
        pair.Link.Loss = impairment;
        pair.Link.Duplication = impairment;
        pair.Link.DelayMicros = 20_000;
        pair.Link.JitterMicros = impairment > 0 ? 30_000 : 0;
        pair.Connect(60_000_000);
        Assert.Equal(PeerState.Connected, pair.Client.State);
        Assert.Equal(PeerState.Connected, pair.Server.State);
        Assert.Single(pair.ClientEvents, e => e.Kind == PeerEventKind.Connected);
        Assert.Single(pair.ServerEvents, e => e.Kind == PeerEventKind.Connected);
        Assert.Equal(PeerPair.ClientAddress, pair.Server.Route);
        Assert.True(pair.Server.IceLite!.Nominated);
        Assert.True(pair.Client.IceClient!.ResponsesAccepted >= 1);
        Assert.Equal(PeerPair.ClientAddress, pair.Client.IceClient.MappedAddress);
    }

    [Fact]
    public void Media_BothWays_FramesArriveWithTheSameBytes()
    {
        using var pair = new PeerPair(7);
        pair.Link.DelayMicros = 10_000;
        pair.Link.JitterMicros = 0; // reordering is the handshake test's: a reordered first packet costs the receive stream its first GOP
        pair.Connect();
        var opusRandom = new Random(5);
        var sentOpus = new List<byte[]>();
        int frame = 0;
        long start = pair.Now;
        int frames = Math.Min(Video.Length, 60);
        // Both ends send the same video (30 fps) and Opus (50 packets/s).
        pair.Run(start + 2_500_000, now =>
        {
            long t = now - start;
            if (t % 40_000 == 0 && frame < frames)
            {
                uint ts = (uint)(frame * 3000);
                Assert.True(pair.Client.WriteFrame(0, Video[frame], ts, now) > 0);
                Assert.True(pair.Server.WriteFrame(0, Video[frame], ts, now) > 0);
                frame++;
            }
            if (t % 20_000 == 0 && sentOpus.Count < 100)
            {
                var opus = PeerTestData.OpusFrame(opusRandom);
                sentOpus.Add(opus);
                uint ts = (uint)((sentOpus.Count - 1) * 960);
                Assert.Equal(1, pair.Client.WriteFrame(1, opus, ts, now));
                Assert.Equal(1, pair.Server.WriteFrame(1, opus, ts, now));
            }
        }, 10_000);
        pair.Run(pair.Now + 500_000);

        foreach (var events in new[] { pair.ServerEvents, pair.ClientEvents })
        {
            var video = events.Where(e => e.Kind == PeerEventKind.FrameReceived && e.Track == 0).ToList();
            Assert.Equal(frames, video.Count);
            for (int i = 0; i < frames; i++)
            {
                var expected = PeerTestData.Nals(Video[i]);
                var got = PeerTestData.AvccNals(video[i].Data);
                Assert.Equal(expected.Count, got.Count);
                for (int k = 0; k < expected.Count; k++)
                    Assert.Equal(expected[k], got[k]);
                Assert.Equal((uint)(i * 3000), video[i].RtpTimestamp);
            }
            Assert.True(video[0].IsKeyframe);
            var audio = events.Where(e => e.Kind == PeerEventKind.FrameReceived && e.Track == 1).ToList();
            Assert.Equal(sentOpus.Count, audio.Count);
            for (int i = 0; i < audio.Count; i++)
                Assert.Equal(sentOpus[i], audio[i].Data);
        }
        // RTCP went both ways: SRs answered by report blocks with an RTT near 2 × 10 ms (+ jitter).
        var report = pair.ClientEvents.Last(e => e.Kind == PeerEventKind.ReceiverReport && e.Track == 0);
        Assert.InRange(report.RttMicros, 15_000, 40_000);
        Assert.Contains(pair.ServerEvents, e => e.Kind == PeerEventKind.ReceiverReport && e.RttMicros > 0);
        Assert.Contains(pair.ClientEvents, e => e.Kind == PeerEventKind.TransportFeedback && e.FeedbackCount > 0);
        Assert.True(pair.Server.GetSendStream(0).SenderReportsSent > 0);
        Assert.Equal(0, pair.Server.Counters.SrtpFailures);
        Assert.Equal(0, pair.Client.Counters.SrtpFailures);
    }

    [Theory]
    [InlineData(11, false)]
    [InlineData(12, false)]
    [InlineData(13, false)]
    [InlineData(14, false)]
    [InlineData(15, true)] // server to client: the RTX SSRC signalled, not learned
    [InlineData(16, true)]
    public void Nack_FivePercentLoss_50msRtt_RepairsAtLeast95PercentOfVideoPacketsInTime(int seed, bool serverSends)
    {
        using var pair = new PeerPair(seed);
        var (sender, receiver, senderEvents, receiverEvents) = serverSends
            ? (pair.Server, pair.Client, pair.ServerEvents, pair.ClientEvents)
            : (pair.Client, pair.Server, pair.ClientEvents, pair.ServerEvents);
        var receiverAddress = serverSends ? PeerPair.ClientAddress : PeerPair.ServerAddress;
        uint videoSsrc = serverSends ? PeerPair.ServerVideoSsrc : PeerPair.ClientVideoSsrc;
        pair.Link.DelayMicros = 25_000; // 50 ms RTT
        pair.Link.JitterMicros = 0; // with reordering the receiver NACKs packets that are only late, and late originals count as recovered
        pair.Connect();
        long start = pair.Now;
        int frame = 0;
        int source = 0;
        int frames = 900; // 30 s at 30 fps, the file looped (IDR every 10 frames)
        pair.Run(start + 30_000_000, now =>
        {
            if (frame == 3)
                pair.Link.Loss = 0.05; // from the fourth frame on, on everything: media, RTX, NACKs, reports
            if (frame < frames)
            {
                // An encoder answers a keyframe request with an IDR: the file has one every 10 frames.
                if (senderEvents.Any(e => e.Kind == PeerEventKind.KeyframeRequested))
                {
                    senderEvents.RemoveAll(e => e.Kind == PeerEventKind.KeyframeRequested);
                    source = (source + 9) / 10 * 10;
                }
                sender.WriteFrame(0, Video[source % Video.Length], (uint)(frame * 3000), now);
                frame++;
                source++;
            }
        }, 33_333);
        pair.Link.Loss = 0;
        pair.Run(pair.Now + 2_000_000);

        // Originals of the client's video SSRC lost on the link (the SRTP header is clear): a loss
        // is repaired in time when its frame (by RTP timestamp) still reached the receiver.
        var lost = pair.Link.DroppedDatagrams
            .Where(d => d.To == receiverAddress && d.Data.Length > 12 && (d.Data[0] >> 6) == 2 && (d.Data[1] & 0x7F) == 96
                && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(d.Data.AsSpan(8)) == videoSsrc)
            .Select(d => (Seq: System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(d.Data.AsSpan(2)), Ts: System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(d.Data.AsSpan(4))))
            .Distinct().ToList();
        var deliveredTimestamps = receiverEvents.Where(e => e.Kind == PeerEventKind.FrameReceived && e.Track == 0).Select(e => e.RtpTimestamp).ToHashSet();
        int lostVideo = lost.Count;
        int repairedInTime = lost.Count(l => deliveredTimestamps.Contains(l.Ts));
        double repaired = (double)repairedInTime / lostVideo;
        int delivered = deliveredTimestamps.Count;
        var rx = receiver.GetReceiveStream(0);
        var tx = sender.GetSendStream(0);
        Console.WriteLine($"seed {seed}: sent {tx.PacketsSent} video packets, lost {lostVideo}, repaired in time {repairedInTime} ({repaired:P1}); frames {delivered}/{frames}; " +
            $"nacks {rx.NacksSent}, recovered after nack {rx.NackRecovered}, rtx received {receiver.Counters.RtxReceived}, resent {tx.Retransmitted}, suppressed {tx.RetransmissionsSuppressed}, plis {rx.PlisSent}, rtt {receiver.RttMicros}");
        Assert.True(lostVideo > 50, $"only {lostVideo} lost: the loss did not happen");
        // Every loss comes back by RTX (the link does not reorder here, so nothing is recovered by a late original).
        double recovered = (double)rx.NackRecovered / lostVideo;
        Assert.True(recovered >= 0.95, $"recovered {recovered:P1}");
        // In time: its frame was delivered. A lost NACK or RTX needs a second round, which the
        // reorder hold (2.5 RTT) and the sender's resend suppression (3/4 RTT) leave room for.
        Assert.True(repaired >= 0.95, $"repaired in time {repaired:P1}");
        Assert.True(delivered >= frames * 0.95, $"delivered {delivered}/{frames}");
    }

    [Fact]
    public void Pli_FromReceiver_BecomesKeyframeRequestedOnSender()
    {
        using var pair = new PeerPair(21);
        pair.Link.DelayMicros = 10_000;
        pair.Connect();
        long start = pair.Now;
        int frame = 0;
        pair.Run(start + 1_000_000, now => pair.Client.WriteFrame(0, Video[frame % Video.Length], (uint)(frame++ * 3000), now), 33_333);
        pair.ClientEvents.Clear();
        pair.Server.RequestKeyframe(0);
        pair.Run(pair.Now + 200_000);
        var requests = pair.ClientEvents.Where(e => e.Kind == PeerEventKind.KeyframeRequested).ToList();
        Assert.NotEmpty(requests);
        Assert.All(requests, r => Assert.Equal(0, r.Track));
        Assert.True(pair.Client.GetSendStream(0).PlisReceived >= 1);
        Assert.Equal(0, pair.Client.GetSendStream(1).PlisReceived);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Close_CloseNotify_EndsTheOtherSide(bool clientCloses)
    {
        using var pair = new PeerPair(31);
        pair.Link.DelayMicros = 10_000;
        pair.Connect();
        var (closer, other, otherEvents) = clientCloses ? (pair.Client, pair.Server, pair.ServerEvents) : (pair.Server, pair.Client, pair.ClientEvents);
        closer.Close(pair.Now);
        pair.Flush();
        Assert.Equal(PeerState.Closed, closer.State);
        pair.Run(pair.Now + 100_000);
        Assert.Equal(PeerState.Closed, other.State);
        var closed = Assert.Single(otherEvents, e => e.Kind == PeerEventKind.Closed);
        Assert.Equal("DTLS close_notify", closed.Reason);
        Assert.Equal(1, other.ByesReceived); // the BYE went just before close_notify
        Assert.Equal(0, closer.WriteFrame(0, Video[0], 0, pair.Now));
    }

    [Fact]
    public void Forwarding_WriteRtpAndPollTransmit_AllocateNothingPerPacket()
    {
        using var pair = new PeerPair(41);
        pair.Connect();
        // Relayed packets: an RTP header (another SSRC, sequence and timestamp) and a payload.
        var packets = new byte[64][];
        var random = new Random(3);
        for (int i = 0; i < packets.Length; i++)
        {
            var p = new byte[12 + 900];
            random.NextBytes(p);
            p[0] = 0x80;
            p[1] = (byte)(96 | (i % 4 == 3 ? 0x80 : 0));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(60000 + i));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), (uint)(i / 4 * 3000));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), 0xABCDEF);
            packets[i] = p;
        }
        var buffer = new byte[1500];
        long now = pair.Now;
        long sent = 0;
        for (int round = 0; round < 30; round++) // warm-up: tiered JIT allocates in the first rounds
            sent += Forward(pair.Client, packets, buffer, ref now);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 50; round++)
            sent += Forward(pair.Client, packets, buffer, ref now);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Console.WriteLine($"forward: {allocated} bytes over {sent} packets");
        Assert.Equal(0, allocated);
        Assert.Equal(80 * packets.Length, sent);
        Assert.Equal(sent, pair.Client.Counters.RtpSent);
    }

    private static long Forward(Peer peer, byte[][] packets, byte[] buffer, ref long now)
    {
        long sent = 0;
        foreach (var p in packets)
        {
            Assert.True(peer.WriteRtp(0, p, now));
            while (peer.TryPollTransmit(buffer, out _, out _))
                sent++;
            now += 1000;
        }
        return sent;
    }
}
