using Engine.Rtp.Rtcp;
using Engine.Rtp.Send;

namespace Engine.Rtp.Tests.Send;

/// <summary>The send path allocates nothing per packet or frame: warm up once, then count bytes over the real path.</summary>
public class SendAllocationTests
{
    [Fact]
    public void PacketizeHistoryPacerOnSendNackAndSr_AllocateNothing()
    {
        var aus = SendTestData.AccessUnits("baseline-320x240.h264").Select(SendTestData.AnnexB).ToArray();
        var history = new SendHistory();
        var stream = new RtpSendStream(new RtpSendStreamOptions { Ssrc = 1, PayloadType = 96, RtxSsrc = 2, RtxPayloadType = 97, Seed = 1 },
            new LeavingPacketStamper(2, 3, history));
        var packetizer = new H264Packetizer();
        var buffer = new byte[1500];
        var rtcp = new byte[1500];
        int nackLength = new GenericNack { SenderSsrc = 9, MediaSsrc = 1, LostSequenceNumbers = new ushort[] { 0 } }.Write(rtcp);
        long now = 0;
        long sent = Round(stream, packetizer, aus, buffer, rtcp, nackLength, ref now);
        // Three windows of 10 rounds: a per-packet allocation shows in every one; a one-off of the
        // runtime (272 B once in ~6 runs, with one warm-up round) shows in one at most.
        long fewest = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++)
                sent += Round(stream, packetizer, aus, buffer, rtcp, nackLength, ref now);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
        Assert.True(stream.Retransmitted > 100);
        Assert.True(stream.SenderReportsSent > 10);
        Assert.Equal(sent, history.Recorded);
    }

    private static long Round(RtpSendStream stream, H264Packetizer packetizer, byte[][] aus, byte[] buffer, byte[] rtcp, int nackLength, ref long now)
    {
        long sent = 0;
        foreach (var au in aus)
        {
            stream.WriteH264(packetizer, au, (uint)(now * 9 / 100), now);
            // NACK the packet just written: RTX from the history.
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(rtcp.AsSpan(12), (ushort)(stream.NextSequenceNumber - 1));
            stream.HandleRtcp(rtcp.AsSpan(0, nackLength), now);
            for (int guard = 0; guard < 1000 && stream.Pacer.QueuedPackets > 0; guard++)
            {
                if (stream.TryPollPacket(buffer, now, out _))
                    sent++;
                else
                    now += 1000;
            }
            stream.TryWriteSenderReport(buffer, now, out _);
            now += 66_666;
        }
        return sent;
    }

    [Fact]
    public void ForwardRewrite_AllocatesNothing()
    {
        var packets = Video.H264TestData.ReadRtpDump("vp8-320x240.rtp")
            .Select(p =>
            {
                var packet = new RtpPacket { PayloadType = 96, SequenceNumber = p.Seq, Timestamp = p.Timestamp, Ssrc = 7, Marker = p.Marker, Payload = p.Payload };
                var b = new byte[packet.GetSerializedLength()];
                packet.Write(b);
                return b;
            }).ToArray();
        var r = new RtpForwardRewriter(99, 90_000, new Random(1));
        var output = new byte[1500];
        long now = 0, bytes = 0;
        foreach (var p in packets)
            bytes += r.Rewrite(p, output, now++);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 50; round++)
            foreach (var p in packets)
            {
                bytes += r.Rewrite(p, output, now);
                now += 100;
            }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(bytes > 0);
    }

    [Fact]
    public void FeedbackMatching_AllocatesNothing()
    {
        var history = new SendHistory(1024);
        var builder = new TransportFeedbackBuilder();
        var buffer = new byte[1500];
        var results = new SentPacketResult[256];
        long total = MatchRound(history, builder, buffer, results, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 1; round < 200; round++)
            total += MatchRound(history, builder, buffer, results, round);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        // Each report starts after the last one, so the losses between rounds are reported: only the
        // first round's i = 0 and the last round's i = 99 are outside every report.
        Assert.Equal(98 + 199 * 100, total);
    }

    private static long MatchRound(SendHistory history, TransportFeedbackBuilder builder, byte[] buffer, SentPacketResult[] results, int round)
    {
        for (int i = 0; i < 100; i++)
        {
            long seq = round * 100L + i;
            history.Record((ushort)seq, seq * 1000, 1200);
            if (i % 9 != 0)
                builder.AddReceivedPacket(seq, seq * 1000 + 40_000);
        }
        int n = builder.Write(buffer, 1, 2);
        RtcpPacketView.TryRead(buffer.AsSpan(0, n), out var packet);
        TransportFeedbackView.TryRead(packet, out var feedback);
        return history.Match(feedback, results);
    }
}
