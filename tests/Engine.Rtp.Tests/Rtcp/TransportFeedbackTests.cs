using Engine.Rtp.Rtcp;

namespace Engine.Rtp.Tests.Rtcp;

/// <summary>draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: examples from the draft and hand-computed packets.</summary>
public class TransportFeedbackTests
{
    private static List<PacketStatus> Statuses(byte[] bytes)
    {
        Assert.True(RtcpPacketView.TryRead(bytes, out var packet));
        Assert.True(TransportFeedbackView.TryRead(packet, out var view));
        var list = new List<PacketStatus>();
        foreach (var s in view)
            list.Add(s);
        Assert.Equal(view.PacketStatusCount, list.Count);
        return list;
    }

    private static byte[] Feedback(ushort baseSeq, ushort count, int referenceTime, byte fbCount, params byte[] chunksAndDeltas)
    {
        int length = (20 + chunksAndDeltas.Length + 3) & ~3;
        var b = new byte[length];
        b[0] = 0x8f; b[1] = 205; b[3] = (byte)(length / 4 - 1);
        b[7] = 1; b[11] = 2;
        b[12] = (byte)(baseSeq >> 8); b[13] = (byte)baseSeq;
        b[14] = (byte)(count >> 8); b[15] = (byte)count;
        b[16] = (byte)(referenceTime >> 16); b[17] = (byte)(referenceTime >> 8); b[18] = (byte)referenceTime;
        b[19] = fbCount;
        chunksAndDeltas.CopyTo(b, 20);
        return b;
    }

    // §3.1.3 example 1 (0x00DD: 221 x "not received") and example 2 (0x6018: 24 x "received, w/o recv delta").
    [Fact]
    public void Draft313_RunLengthExamples()
    {
        var bytes = Feedback(100, 221 + 24, 16, 1, 0x00, 0xDD, 0x60, 0x18);
        var s = Statuses(bytes);
        Assert.All(s.Take(221), p => Assert.Equal(PacketStatusSymbol.NotReceived, p.Symbol));
        Assert.All(s.Skip(221), p => Assert.Equal(PacketStatusSymbol.ReceivedWithoutDelta, p.Symbol));
        Assert.Equal(100, s[0].SequenceNumber);
        Assert.Equal(100 + 244, s[^1].SequenceNumber);
        Assert.False(s[^1].HasDelta);
        Assert.True(s[^1].IsReceived);
    }

    // §3.1.4 example 1 (0x9F1C, one-bit) then example 2 (0xCD50, two-bit).
    [Fact]
    public void Draft314_StatusVectorExamples()
    {
        byte[] deltas = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        var bytes = Feedback(65530, 21, 0, 0, [0x9F, 0x1C, 0xCD, 0x50, .. deltas]);
        Assert.Equal(36, bytes.Length);
        var s = Statuses(bytes);
        string pattern = string.Concat(s.Select(p => (int)p.Symbol));
        // 1x not, 5x received, 3x not, 3x received, 2x not | not, w/o timestamp, 3x received, 2x not
        Assert.Equal("01111100011100" + "0311100", pattern);
        Assert.Equal(65530, s[0].SequenceNumber);
        Assert.Equal(4, s[10].SequenceNumber); // wraps through 65535 -> 0
        int[] received = s.Where(p => p.HasDelta).Select(p => p.DeltaTicks).ToArray();
        Assert.Equal(deltas.Select(d => (int)d), received);
        Assert.Equal(250L * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11), s.Last(p => p.HasDelta).ArrivalMicros);
    }

    [Fact]
    public void LargeAndNegativeDeltas_AreSigned16Bit()
    {
        // Run of 2 x "large or negative delta" (0x4002): +1000 ticks, then -4 ticks. Reference time -1 (24-bit).
        var bytes = Feedback(7, 2, 0xffffff, 3, 0x40, 0x02, 0x03, 0xE8, 0xFF, 0xFC);
        Assert.True(RtcpPacketView.TryRead(bytes, out var packet));
        Assert.True(TransportFeedbackView.TryRead(packet, out var view));
        Assert.Equal(-1, view.ReferenceTime);
        Assert.Equal(3, view.FeedbackPacketCount);
        var s = Statuses(bytes);
        Assert.Equal(1000, s[0].DeltaTicks);
        Assert.Equal(-4, s[1].DeltaTicks);
        Assert.Equal(-64_000 + 250_000, s[0].ArrivalMicros);
        Assert.Equal(-64_000 + 249_000, s[1].ArrivalMicros);
    }

    /// <summary>Chromium pads its feedback with the P bit set (seen in chromium156-loopback.pcap: first byte 0xaf).</summary>
    [Fact]
    public void PaddingWithPBit_LikeChromium_IsStripped()
    {
        var bytes = Feedback(10, 3, 2, 0, 0x20, 0x03, 0, 4, 6);
        bytes[0] |= 0x20;
        bytes[^1] = 3;
        var s = Statuses(bytes);
        Assert.Equal([0, 4, 6], s.Select(p => p.DeltaTicks));
        bytes[^1] = 2; // padding that would eat into the deltas' room is still fine: the deltas end before it
        Assert.Equal(3, Statuses(bytes).Count);
        bytes[^1] = 4; // 4 bytes of padding leave only 2 of the 3 delta bytes
        Assert.False(TryParse(bytes));
    }

    [Fact]
    public void MissingDeltas_AreRejected()
    {
        // Run of 3 small deltas announced, only 2 delta bytes present (plus zero padding that ends the packet).
        Assert.False(TryParse(Feedback(0, 3, 0, 0, 0x20, 0x03, 1, 2)[..24]));
        // Status count needs more chunks than present (the zero padding reads as an empty run).
        Assert.False(TryParse(Feedback(0, 30, 0, 0, 0x20, 0x03)));
        // Status count 0.
        Assert.False(TryParse(Feedback(0, 0, 0, 0, 0x20, 0x00)));
    }

    private static bool TryParse(byte[] bytes) =>
        RtcpPacketView.TryRead(bytes, out var p) && TransportFeedbackView.TryRead(p, out _);

    private static byte[] Build(TransportFeedbackBuilder builder)
    {
        var buffer = new byte[1500];
        int n = builder.Write(buffer, 1, 2);
        Assert.True(n > 0);
        return buffer[..n];
    }

    [Fact]
    public void Builder_ConsecutiveSmallDeltas_UseOneRunLengthChunk()
    {
        var builder = new TransportFeedbackBuilder();
        builder.AddReceivedPacket(10, 128_000);
        builder.AddReceivedPacket(11, 129_000);
        builder.AddReceivedPacket(12, 130_500);
        var bytes = Build(builder);
        byte[] expected = [0x8f, 205, 0, 6, 0, 0, 0, 1, 0, 0, 0, 2,
            0, 10, 0, 3, 0, 0, 2, 0,    // base 10, count 3, reference time 2 (x 64 ms), fb count 0
            0x20, 0x03,                 // run of 3 "small delta"
            0, 4, 6, 0, 0, 0];          // deltas 0, 1 ms, 1.5 ms in 250 µs ticks, zero padding
        Assert.Equal(expected, bytes);
        Assert.Equal(0, builder.PendingCount);
        Assert.Equal(0, builder.Write(new byte[1500], 1, 2));
    }

    [Fact]
    public void Builder_GapAndLargeAndNegativeDelta_UseTwoBitVector()
    {
        var builder = new TransportFeedbackBuilder();
        builder.AddReceivedPacket(0, 0);
        builder.AddReceivedPacket(2, 100_000); // +400 ticks: too big for 8 bits
        builder.AddReceivedPacket(3, 99_000);  // -4 ticks: arrived "before" seq 2
        var bytes = Build(builder);
        // symbols small, not, large, large -> 1|1|01 00 10 10 00 00 00 = 0xD280
        byte[] tail = [0, 0, 0, 4, 0, 0, 0, 0, 0xD2, 0x80, 0, 0x01, 0x90, 0xFF, 0xFC, 0];
        Assert.Equal(tail, bytes[12..]);
        var s = Statuses(bytes);
        Assert.Equal([0, 100_000, 99_000], s.Where(p => p.IsReceived).Select(p => p.ArrivalMicros));
    }

    [Fact]
    public void Builder_AlternatingLoss_UsesOneBitVector()
    {
        var builder = new TransportFeedbackBuilder();
        for (int seq = 0; seq <= 12; seq += 2)
            builder.AddReceivedPacket(seq, 5_000);
        var bytes = Build(builder);
        // 13 symbols 1010101010101 in a one-bit vector: 1|0|10101010101010 = 0xAAAA; 7 zero deltas (first: 5 ms = 20 ticks)
        Assert.Equal([0, 0, 0, 13, 0, 0, 0, 0, 0xAA, 0xAA, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0], bytes[12..]);
    }

    [Fact]
    public void Builder_HugeArrivalGap_StartsANewFeedback()
    {
        var builder = new TransportFeedbackBuilder();
        builder.AddReceivedPacket(1, 0);
        builder.AddReceivedPacket(2, 9_000_000); // 36000 ticks > 16-bit delta
        var first = Statuses(Build(builder));
        Assert.Single(first);
        Assert.Equal(1, builder.PendingCount);
        var second = Statuses(Build(builder));
        Assert.Equal(2, second[0].SequenceNumber);
        Assert.Equal(9_000_000, second[0].ArrivalMicros);
    }

    [Fact]
    public void Builder_PacketsLostBetweenReports_AreReportedLostInTheNext()
    {
        var builder = new TransportFeedbackBuilder();
        builder.AddReceivedPacket(10, 0);
        builder.AddReceivedPacket(11, 1000);
        Assert.Equal(2, Statuses(Build(builder)).Count);
        // 12 and 13 never arrive; the next report starts at 12, not at the next packet received.
        builder.AddReceivedPacket(14, 5000);
        var next = Statuses(Build(builder));
        Assert.Equal([12, 13, 14], next.Select(p => (int)p.SequenceNumber));
        Assert.Equal([false, false, true], next.Select(p => p.IsReceived));
        // A packet older than what was reported is refused: the sender was told it was lost.
        Assert.False(builder.AddReceivedPacket(13, 6000));
        Assert.Equal(1, builder.DroppedLate);
    }

    [Fact]
    public void Builder_RejectsDuplicatesAndOverflow()
    {
        var builder = new TransportFeedbackBuilder(capacity: 2);
        Assert.True(builder.AddReceivedPacket(5, 0));
        Assert.False(builder.AddReceivedPacket(5, 10));
        Assert.True(builder.AddReceivedPacket(3, 0));
        Assert.False(builder.AddReceivedPacket(9, 0));
        Assert.Equal(1, builder.DroppedDuplicate);
        Assert.Equal(1, builder.DroppedFull);
        var s = Statuses(Build(builder));
        Assert.Equal(3, s[0].SequenceNumber); // sorted even when added out of order
        Assert.Equal(3, s.Count);
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 100)]
    [InlineData(3, 1200)]
    [InlineData(4, 200)]
    public void Builder_RandomStreams_RoundTripThroughTheParser_SplittingAtMaxSize(int seed, int maxSize)
    {
        var rng = new Random(seed);
        var builder = new TransportFeedbackBuilder(capacity: 4096, maxPacketSize: maxSize);
        var expected = new Dictionary<ushort, long>();
        long seq = rng.Next(65536), t = rng.NextInt64(-1_000_000_000, 1_000_000_000);
        for (int i = 0; i < 3000; i++)
        {
            seq += rng.Next(10) switch { 0 => rng.Next(2, 30), 1 when rng.Next(50) == 0 => rng.Next(1000, 9000), _ => 1 };
            t += rng.Next(10) switch { 0 => rng.Next(-20_000, 0), 1 => rng.Next(70_000, 9_000_000), _ => rng.Next(0, 3000) };
            Assert.True(builder.AddReceivedPacket(seq, t));
            expected[(ushort)seq] = t - (((t % 250) + 250) % 250); // floor to 250 µs
        }
        var got = new Dictionary<ushort, long>();
        int packets = 0;
        byte lastCount = 255;
        while (builder.PendingCount > 0 && packets < 10_000)
        {
            var buffer = new byte[2000];
            int n = builder.Write(buffer, 1, 2);
            Assert.InRange(n, 24, maxSize);
            Assert.True(RtcpPacketView.TryRead(buffer.AsSpan(0, n), out var packet));
            Assert.True(TransportFeedbackView.TryRead(packet, out var view));
            Assert.Equal((byte)(lastCount + 1), view.FeedbackPacketCount);
            lastCount = view.FeedbackPacketCount;
            foreach (var s in view)
                if (s.IsReceived)
                {
                    Assert.True(s.HasDelta);
                    got.Add(s.SequenceNumber, s.ArrivalMicros);
                }
            packets++;
        }
        Assert.Equal(expected.OrderBy(kv => kv.Key), got.OrderBy(kv => kv.Key));
    }
}
