using System.Buffers.Binary;
using Engine.Rtp.Rtcp;
using Engine.Rtp.Send;

namespace Engine.Rtp.Tests.Send;

public class RtpSendStreamTests
{
    private const uint Ssrc = 0x11223344, RtxSsrc = 0x55667788;
    private const long NtpOffset = 3_900_000_000L * 1_000_000; // 2023 in NTP seconds

    private static RtpSendStream NewStream(bool rtx = true, int history = 256, LeavingPacketStamper? stamper = null, long minInterval = 20_000) =>
        new(new RtpSendStreamOptions
        {
            Ssrc = Ssrc,
            PayloadType = 96,
            RtxSsrc = rtx ? RtxSsrc : null,
            RtxPayloadType = 97,
            HistoryPackets = history,
            MinResendIntervalMicros = minInterval,
            NtpOffsetMicros = NtpOffset,
            Seed = 7,
        }, stamper);

    private static byte[] PayloadOf(int i) => Enumerable.Range(0, 50 + i % 30).Select(k => (byte)(i * 31 + k)).ToArray();

    /// <summary>Polls every packet the pacer releases, moving time on 1 ms per refusal (bounded).</summary>
    private static List<byte[]> Drain(RtpSendStream s, ref long now)
    {
        var list = new List<byte[]>();
        var buffer = new byte[1500];
        for (int guard = 0; guard < 100_000 && s.Pacer.QueuedPackets > 0; guard++)
        {
            if (s.TryPollPacket(buffer, now, out int n))
                list.Add(buffer[..n]);
            else
                now += 1000;
        }
        Assert.Equal(0, s.Pacer.QueuedPackets);
        return list;
    }

    private static RtpPacketView Parse(byte[] packet)
    {
        Assert.True(RtpPacketView.TryRead(packet, out var v));
        return v;
    }

    private static byte[] Nack(params ushort[] lost)
    {
        var b = new byte[256];
        int n = new GenericNack { SenderSsrc = 9, MediaSsrc = Ssrc, LostSequenceNumbers = lost }.Write(b);
        return b[..n];
    }

    [Fact]
    public void PacketsLeaveInOrderWithConsecutiveSequenceNumbersAndStampedExtensions()
    {
        var history = new SendHistory();
        var stamper = new LeavingPacketStamper(3, 5, history, firstTransportSequenceNumber: 65530);
        var s = NewStream(stamper: stamper);
        Assert.Equal(12 + 4 + 8, s.HeaderLength); // 1+3 and 1+2 bytes of elements padded to 8
        long now = 1_000_000;
        ushort first = s.NextSequenceNumber;
        for (int i = 0; i < 20; i++)
            Assert.True(s.WritePayload(PayloadOf(i), 90_000u * 7 + (uint)(i / 4 * 3000), i % 4 == 3, now));
        var packets = Drain(s, ref now);
        Assert.Equal(20, packets.Count);
        for (int i = 0; i < 20; i++)
        {
            var v = Parse(packets[i]);
            Assert.Equal((ushort)(first + i), v.SequenceNumber);
            Assert.Equal(Ssrc, v.Ssrc);
            Assert.Equal(96, v.PayloadType);
            Assert.Equal(i % 4 == 3, v.Marker);
            Assert.Equal(PayloadOf(i), v.Payload.ToArray());
            Assert.True(v.TryGetExtension(5, out var tcc));
            Assert.True(TransportSequenceNumber.TryRead(tcc, out ushort t));
            Assert.Equal((ushort)(65530 + i), t);
            Assert.True(v.TryGetExtension(3, out var abs));
            Assert.True(AbsSendTime.TryRead(abs, out var a));
            Assert.True(history.TryGet(65530L + i, out long sent, out int size));
            Assert.Equal(packets[i].Length, size);
            Assert.Equal(AbsSendTime.FromMicros(sent).Value, a.Value);
        }
        Assert.Equal(20, stamper.Stamped);
        Assert.Equal(20u, s.PacketsSent);
        Assert.Equal((uint)Enumerable.Range(0, 20).Sum(i => PayloadOf(i).Length), s.PayloadOctetsSent);
    }

    [Fact]
    public void ANackedPacketInHistoryComesBackAsRtx()
    {
        var s = NewStream();
        long now = 0;
        for (int i = 0; i < 10; i++)
            s.WritePayload(PayloadOf(i), 1000u + (uint)i, i == 9, now);
        var sent = Drain(s, ref now);
        var lost = Parse(sent[3]);
        var lost2 = Parse(sent[9]);
        Assert.True(s.HandleRtcp(Nack(lost.SequenceNumber, lost2.SequenceNumber), now));
        var rtx = Drain(s, ref now);
        Assert.Equal(2, rtx.Count);
        Assert.Equal(2, s.Retransmitted);
        Assert.Equal(2, s.RetransmissionsRequested);
        var r0 = Parse(rtx[0]);
        var r1 = Parse(rtx[1]);
        // RFC 4588 §4: RTX SSRC and payload type, own consecutive sequence numbers, original timestamp and marker, OSN first.
        Assert.Equal(RtxSsrc, r0.Ssrc);
        Assert.Equal(97, r0.PayloadType);
        Assert.Equal((ushort)(r0.SequenceNumber + 1), r1.SequenceNumber);
        Assert.Equal(lost.Timestamp, r0.Timestamp);
        Assert.False(r0.Marker);
        Assert.True(r1.Marker);
        Assert.Equal(lost.SequenceNumber, BinaryPrimitives.ReadUInt16BigEndian(r0.Payload));
        Assert.Equal(lost.Payload.ToArray(), r0.Payload[2..].ToArray());
        Assert.Equal(lost2.Payload.ToArray(), r1.Payload[2..].ToArray());
        // Retransmissions are not new data in the SR counts.
        Assert.Equal(10u, s.PacketsSent);
    }

    [Fact]
    public void WithoutRtxTheOriginalPacketIsResent()
    {
        var s = NewStream(rtx: false);
        long now = 0;
        for (int i = 0; i < 5; i++)
            s.WritePayload(PayloadOf(i), 1000, false, now);
        var sent = Drain(s, ref now);
        s.HandleRtcp(Nack(Parse(sent[2]).SequenceNumber), now);
        var again = Drain(s, ref now);
        Assert.Single(again);
        Assert.Equal(sent[2], again[0]);
    }

    [Fact]
    public void APacketOutOfHistoryIsCountedAndNotSent()
    {
        var s = NewStream(history: 64);
        long now = 0;
        ushort first = s.NextSequenceNumber;
        for (int i = 0; i < 200; i++)
        {
            s.WritePayload(PayloadOf(i), (uint)i, false, now);
            Drain(s, ref now);
        }
        s.HandleRtcp(Nack(first, (ushort)(first + 199)), now);
        Assert.Equal(1, s.MissingFromHistory);
        Assert.Equal(2, s.RetransmissionsRequested);
        var again = Drain(s, ref now);
        Assert.Single(again);
        Assert.Equal((ushort)(first + 199), BinaryPrimitives.ReadUInt16BigEndian(Parse(again[0]).Payload));
        // A sequence number never sent (ahead of the stream) is not in the history either.
        s.HandleRtcp(Nack((ushort)(first + 300)), now);
        Assert.Equal(2, s.MissingFromHistory);
    }

    [Fact]
    public void RepeatNacksWithinTheMinimumIntervalAreIgnored()
    {
        var s = NewStream(minInterval: 20_000);
        long now = 0;
        s.WritePayload(PayloadOf(0), 1, true, now);
        ushort seq = Parse(Drain(s, ref now)[0]).SequenceNumber;
        long t0 = now;
        s.HandleRtcp(Nack(seq), t0);
        s.HandleRtcp(Nack(seq), t0 + 5_000);
        s.HandleRtcp(Nack(seq), t0 + 19_999);
        Assert.Equal(2, s.RetransmissionsSuppressed);
        Assert.Single(Drain(s, ref now));
        s.HandleRtcp(Nack(seq), t0 + 20_000);
        Assert.Single(Drain(s, ref now));
        Assert.Equal(2, s.Retransmitted);
        Assert.Equal(4, s.NacksReceived);
    }

    [Fact]
    public void SenderReportsCarryTheNtpRtpMappingAndCountsAboutEverySecond()
    {
        var s = NewStream();
        long now = 5_000_000;
        Assert.Equal(long.MaxValue, s.NextSenderReportMicros); // nothing sent: no SR
        var buffer = new byte[256];
        Assert.False(s.TryWriteSenderReport(buffer, now, out _));
        s.WritePayload(PayloadOf(0), 123_456, true, now);
        s.WritePayload(PayloadOf(1), 123_456, true, now);
        long written = now;
        Drain(s, ref now);
        Assert.True(s.NextSenderReportMicros <= now);
        long at = written + 250_000; // a quarter second after the last write
        Assert.True(s.TryWriteSenderReport(buffer, at, out int n));
        Assert.True(RtcpPacketView.TryRead(buffer.AsSpan(0, n), out var packet));
        Assert.True(SenderReportView.TryRead(packet, out var sr));
        Assert.Equal(Ssrc, sr.SenderSsrc);
        Assert.Equal(RtpSendStream.MicrosToNtp(at + NtpOffset), sr.NtpTimestamp);
        Assert.Equal(3_900_000_005UL, sr.NtpTimestamp >> 32); // whole seconds
        Assert.Equal(123_456u + 22_500, sr.RtpTimestamp); // 0.25 s at 90 kHz
        Assert.Equal(2u, sr.PacketCount);
        Assert.Equal((uint)(PayloadOf(0).Length + PayloadOf(1).Length), sr.OctetCount);
        // Then every 0.5..1.5 s, about 1 s on average.
        long previous = at;
        var gaps = new List<long>();
        for (long t = at; gaps.Count < 200 && t < at + 1_000_000_000; t += 1000)
        {
            if (s.TryWriteSenderReport(buffer, t, out _))
            {
                gaps.Add(t - previous);
                previous = t;
            }
        }
        Assert.Equal(200, gaps.Count);
        Assert.All(gaps, g => Assert.InRange(g, 500_000, 1_501_000));
        Assert.InRange(gaps.Average(), 900_000, 1_100_000);
        Assert.True(gaps.Max() - gaps.Min() > 500_000); // randomised, not a fixed period
    }

    [Fact]
    public void ReceiverReportGivesTheRoundTripTime()
    {
        var s = NewStream();
        long now = 10_000_000;
        s.WritePayload(PayloadOf(0), 0, true, now);
        Drain(s, ref now);
        var buffer = new byte[256];
        long srAt = now;
        int n = s.WriteSenderReport(buffer, srAt);
        Assert.True(n > 0);
        uint lsr = (uint)(BinaryPrimitives.ReadUInt64BigEndian(buffer.AsSpan(8)) >> 16);
        // The receiver holds it 50 ms, the path adds 80 ms in total.
        uint dlsr = 50 * 65536 / 1000;
        var block = new ReportBlock(Ssrc, 25, 17, 1234, 90, lsr, dlsr);
        var other = new ReportBlock(Ssrc + 1, 200, 900, 1, 1, lsr, 0);
        int m = new ReceiverReport { SenderSsrc = 9, ReportBlocks = new[] { other, block } }.Write(buffer);
        Assert.Equal(-1, s.RttMicros);
        Assert.True(s.HandleRtcp(buffer.AsSpan(0, m), srAt + 130_000));
        Assert.InRange(s.RttMicros, 80_000 - 40, 80_000 + 40); // 1/65536 s resolution
        Assert.Equal(1, s.ReportBlocksReceived);
        Assert.Equal(25, s.LastReportBlock.FractionLost);
        Assert.Equal(17, s.LastReportBlock.CumulativeLost);
        Assert.Equal(90u, s.LastReportBlock.Jitter);
        // No SR seen yet (LSR 0): loss is taken, the RTT stays.
        s.HandleReportBlock(new ReportBlock(Ssrc, 1, 18, 1300, 91, 0, 0), srAt + 200_000);
        Assert.InRange(s.RttMicros, 80_000 - 40, 80_000 + 40);
        Assert.Equal(18, s.LastReportBlock.CumulativeLost);
    }

    [Fact]
    public void TheRttWidensTheResendInterval()
    {
        var s = NewStream(minInterval: 10_000);
        long now = 0;
        s.WritePayload(PayloadOf(0), 1, true, now);
        ushort seq = Parse(Drain(s, ref now)[0]).SequenceNumber;
        var b = new byte[64];
        s.WriteSenderReport(b, now);
        uint lsr = (uint)(BinaryPrimitives.ReadUInt64BigEndian(b.AsSpan(8)) >> 16);
        s.HandleReportBlock(new ReportBlock(Ssrc, 0, 0, 0, 0, lsr, 0), now + 100_000); // RTT 100 ms
        s.HandleRtcp(Nack(seq), now);
        s.HandleRtcp(Nack(seq), now + 50_000);
        Assert.Equal(1, s.RetransmissionsSuppressed);
        s.HandleRtcp(Nack(seq), now + 101_000);
        Assert.Equal(1, s.RetransmissionsSuppressed);
        Assert.Equal(2, Drain(s, ref now).Count);
    }

    [Fact]
    public void PliAndNewFirRequestAKeyframeRepeatedFirDoesNot()
    {
        var s = NewStream();
        var b = new byte[64];
        int n = new Pli { SenderSsrc = 9, MediaSsrc = Ssrc + 1 }.Write(b);
        s.HandleRtcp(b.AsSpan(0, n), 0);
        Assert.False(s.KeyframeRequested);
        n = new Pli { SenderSsrc = 9, MediaSsrc = Ssrc }.Write(b);
        s.HandleRtcp(b.AsSpan(0, n), 0);
        Assert.True(s.TakeKeyframeRequest());
        Assert.False(s.TakeKeyframeRequest());
        Assert.Equal(1, s.PlisReceived);

        int Fir(uint sender, byte seq) => new Fir { SenderSsrc = sender, Entries = new[] { new FirEntry(Ssrc + 5, 1), new FirEntry(Ssrc, seq) } }.Write(b);
        s.HandleRtcp(b.AsSpan(0, Fir(9, 4)), 0);
        Assert.True(s.TakeKeyframeRequest());
        s.HandleRtcp(b.AsSpan(0, Fir(9, 4)), 0); // the same request again (RFC 5104 §4.3.1.2)
        Assert.False(s.TakeKeyframeRequest());
        Assert.Equal(1, s.FirDuplicates);
        s.HandleRtcp(b.AsSpan(0, Fir(10, 4)), 0); // another sender's counter
        Assert.True(s.TakeKeyframeRequest());
        s.HandleRtcp(b.AsSpan(0, Fir(9, 5)), 0);
        Assert.True(s.TakeKeyframeRequest());
        Assert.Equal(4, s.FirsReceived);
    }

    [Fact]
    public void BadRtcpIsRefusedAndTooLargePayloadsAreCounted()
    {
        var s = NewStream();
        Assert.False(s.HandleRtcp([0x80, 201, 0, 9], 0));
        Assert.False(s.WritePayload(new byte[s.MaxPayloadSize + 1], 0, true, 0));
        Assert.Equal(1, s.PacketsTooLarge);
        Assert.False(s.TryPollPacket(new byte[100], 0, out _)); // destination too small
    }

    [Fact]
    public void AKeyframeIsSpreadOverAtMostFiveMilliseconds()
    {
        var s = NewStream();
        long start = 1_000_000, now = start;
        var au = SendTestData.AnnexB(SendTestData.AccessUnits("main-640x360.h264")[0]);
        int n = s.WriteH264(new H264Packetizer(300), au, 0, now);
        Assert.True(n >= 16, $"{n} packets");
        var times = new List<long>();
        var buffer = new byte[1500];
        for (int guard = 0; guard < 1000 && s.Pacer.QueuedPackets > 0; guard++)
        {
            if (s.TryPollPacket(buffer, now, out _))
                times.Add(now);
            else
            {
                Assert.True(s.Pacer.NextReleaseMicros > now);
                now += 100;
            }
        }
        Assert.Equal(n, times.Count);
        Assert.InRange(times[^1] - start, 3_000, 5_000);
        Assert.True(times.GroupBy(t => t).Count() <= 5);
    }
}
