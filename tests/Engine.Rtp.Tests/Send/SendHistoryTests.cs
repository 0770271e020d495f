using Engine.Rtp.Rtcp;
using Engine.Rtp.Send;

namespace Engine.Rtp.Tests.Send;

public class SendHistoryTests
{
    [Fact]
    public void TransportFeedbackIsMatchedToWhatWasSent()
    {
        var history = new SendHistory(1024);
        var stamper = new LeavingPacketStamper(2, 3, history, firstTransportSequenceNumber: 65_500); // wraps
        var stream = new RtpSendStream(new RtpSendStreamOptions { Ssrc = 1, PayloadType = 96, Seed = 1 }, stamper);
        var builder = new TransportFeedbackBuilder();
        var buffer = new byte[1500];
        long now = 2_000_000;
        var sent = new List<(long Seq, long At, int Size)>();
        for (int i = 0; i < 100; i++)
        {
            stream.WritePayload(new byte[100 + i], (uint)i, true, now);
            Assert.True(stream.TryPollPacket(buffer, now, out int n));
            Assert.True(RtpPacketView.TryRead(buffer.AsSpan(0, n), out var v));
            Assert.True(v.TryGetExtension(3, out var e));
            Assert.True(TransportSequenceNumber.TryRead(e, out ushort tseq));
            long unwrapped = 65_500 + i;
            Assert.Equal((ushort)unwrapped, tseq);
            sent.Add((unwrapped, now, n));
            // The receiver's clock is 7 s ahead; every 7th packet is lost; a path delay of 30 ms plus i × 100 µs.
            if (i % 7 != 3)
                builder.AddReceivedPacket(unwrapped, now + 7_000_000 + 30_000 + i * 100);
            now += 2_000 + (i % 3) * 500;
        }
        int length = builder.Write(buffer, 9, 1);
        Assert.True(RtcpPacketView.TryRead(buffer.AsSpan(0, length), out var packet));
        Assert.True(TransportFeedbackView.TryRead(packet, out var feedback));
        var results = new SentPacketResult[200];
        int count = history.Match(feedback, results);
        // From the first reported (i = 0) to the last received (i = 99): every packet once.
        Assert.Equal(100, count);
        long firstArrival = results[0].ArrivalMicros;
        for (int i = 0; i < count; i++)
        {
            var r = results[i];
            Assert.Equal(sent[i].Seq, r.TransportSequenceNumber);
            Assert.Equal(sent[i].At, r.SendMicros);
            Assert.Equal(sent[i].Size, r.Size);
            Assert.Equal(i % 7 != 3, r.Received);
            if (r.Received)
            {
                // Arrival deltas survive at the feedback's 250 µs resolution.
                long expected = sent[i].At + i * 100 - (sent[0].At);
                Assert.InRange(r.ArrivalMicros - firstArrival - expected, -250, 250);
            }
            else
                Assert.Equal(-1, r.ArrivalMicros);
        }
        Assert.Equal(0, history.UnknownInFeedback);
        // A smaller span takes what fits.
        Assert.Equal(10, history.Match(feedback, results.AsSpan(0, 10)));
    }

    [Fact]
    public void PacketsNoLongerInTheHistoryAreCounted()
    {
        var history = new SendHistory(16);
        for (int i = 0; i < 40; i++)
            history.Record((ushort)i, i * 1000, 100);
        var builder = new TransportFeedbackBuilder();
        for (int i = 20; i < 40; i++)
            builder.AddReceivedPacket(i, 5_000_000 + i * 1000);
        var buffer = new byte[1500];
        int length = builder.Write(buffer, 9, 1);
        Assert.True(RtcpPacketView.TryRead(buffer.AsSpan(0, length), out var packet));
        Assert.True(TransportFeedbackView.TryRead(packet, out var feedback));
        var results = new SentPacketResult[64];
        Assert.Equal(16, history.Match(feedback, results));
        Assert.Equal(4, history.UnknownInFeedback);
        Assert.Equal(24, results[0].TransportSequenceNumber);
        Assert.False(history.TryGet(19, out _, out _));
        Assert.Equal(0, new SendHistory().Match(feedback, results)); // nothing sent yet
    }

    [Fact]
    public void ThePacketMustCarryTheConfiguredElements()
    {
        var stamper = new LeavingPacketStamper(2, 3, null);
        var p = new RtpPacket { PayloadType = 96, Payload = new byte[10] };
        var b = new byte[p.GetSerializedLength()];
        p.Write(b);
        Assert.Equal(-1, stamper.OnSend(b, 0));
        Assert.Equal(-1, stamper.OnSend(new byte[5], 0));
        Assert.Equal(2, stamper.Unstamped);
        Assert.Equal(0, stamper.Stamped);
    }

    [Fact]
    public void OnlyTheSequenceASlotHoldsIsFoundAcrossRoundsOfTheRingAndSixteenBitWraps()
    {
        var history = new SendHistory(16);
        for (int i = 0; i < 70_000; i++) // past the 16-bit wrap: unwrapped 0..69999
            history.Record((ushort)i, i * 10L, 100 + i % 7);
        Assert.True(history.TryGet(69_999, out long sent, out int size));
        Assert.Equal(699_990, sent);
        Assert.Equal(100 + 69_999 % 7, size);
        Assert.True(history.TryGet(69_984, out _, out _)); // the oldest of the 16
        Assert.False(history.TryGet(69_983, out _, out _)); // its slot now holds 69_999
        Assert.False(history.TryGet(69_999 + 16, out _, out _)); // the same slot, a round not yet sent
        Assert.False(history.TryGet(-1, out _, out _));
    }

}
