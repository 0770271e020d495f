using Engine.Rtp.Receive;

namespace Engine.Rtp.Tests.Receive;

public class RtpReceiveStatisticsTests
{
    [Fact]
    public void LossAndFractionFollowRfc3550AppendixA3()
    {
        var s = new RtpReceiveStatistics(0x1234, 90000);
        for (long seq = 1000; seq < 1100; seq++)
            if (seq % 10 != 5) // 10 of 100 lost, none at the edges
                s.OnPacket(seq, (uint)(seq * 3000), seq * 33_333, 1000);
        var rb = s.CreateReportBlock(4_000_000);
        Assert.Equal(0x1234u, rb.Ssrc);
        Assert.Equal(1099u, rb.ExtendedHighestSequenceNumber);
        Assert.Equal(10, rb.CumulativeLost);
        Assert.Equal(10 * 256 / 100, rb.FractionLost); // 25
        // Next interval: nothing lost.
        for (long seq = 1100; seq < 1200; seq++)
            s.OnPacket(seq, (uint)(seq * 3000), seq * 33_333, 1000);
        rb = s.CreateReportBlock(8_000_000);
        Assert.Equal(0, rb.FractionLost);
        Assert.Equal(10, rb.CumulativeLost);
        Assert.Equal(190, s.PacketsReceived);
    }

    [Fact]
    public void JitterIsZeroForPerfectPacingAndGrowsWithVariance()
    {
        var steady = new RtpReceiveStatistics(1, 90000);
        for (int i = 0; i < 500; i++)
            steady.OnPacket(i, (uint)(i * 3000), i * 33_333L + 0, 1000); // 3000 ticks = 33.33 ms
        Assert.InRange(steady.Jitter, 0u, 2u);

        var noisy = new RtpReceiveStatistics(1, 90000);
        var rng = new Random(1);
        for (int i = 0; i < 500; i++)
            noisy.OnPacket(i, (uint)(i * 3000), i * 33_333L + rng.Next(0, 20_000), 1000);
        // Uniform 0-20 ms arrival noise: mean |D| is ~6.7 ms = ~600 ticks at 90 kHz.
        Assert.InRange(noisy.Jitter, 300u, 900u);
        Assert.InRange(noisy.JitterMillis, 3.3, 10.0);
    }

    [Fact]
    public void JitterSurvivesTheRtpTimestampWrap()
    {
        var s = new RtpReceiveStatistics(1, 48000);
        uint ts = uint.MaxValue - 960 * 50;
        for (int i = 0; i < 200; i++, ts += 960)
            s.OnPacket(i, ts, i * 20_000L, 100);
        Assert.InRange(s.Jitter, 0u, 2u);
    }

    [Fact]
    public void LsrAndDlsrComeFromTheLastSenderReport()
    {
        var s = new RtpReceiveStatistics(1, 90000);
        s.OnPacket(1, 0, 0, 100);
        Assert.Equal(0u, s.CreateReportBlock(0).LastSenderReport);
        ulong ntp = 0xAABBCCDD_11223344UL;
        s.OnSenderReport(ntp, 1_000_000);
        var rb = s.CreateReportBlock(1_500_000);
        Assert.Equal(0xCCDD1122u, rb.LastSenderReport);
        Assert.Equal(32768u, rb.DelaySinceLastSenderReport); // 0.5 s in 1/65536 s
    }

    [Fact]
    public void DuplicatesMakeLossNegativeAsTheRfcSays()
    {
        var s = new RtpReceiveStatistics(1, 90000);
        s.OnPacket(1, 0, 0, 100);
        s.OnPacket(2, 0, 0, 100);
        s.OnPacket(2, 0, 0, 100);
        Assert.Equal(-1, s.CumulativeLost);
        Assert.Equal(-1, s.CreateReportBlock(0).CumulativeLost);
    }

    [Fact]
    public void OnPacketAllocatesNothing()
    {
        var s = new RtpReceiveStatistics(1, 90000);
        s.OnPacket(0, 0, 0, 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i < 10_000; i++)
            s.OnPacket(i, (uint)(i * 3000), i * 33_333L, 1000);
        _ = s.CreateReportBlock(1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
