using Engine.Rtp.Receive;

namespace Engine.Rtp.Tests.Receive;

public class SenderClockTests
{
    private const long NtpEpoch = 3_973_017_600L * 1_000_000; // 2026-11-22 00:00:00 UTC in NTP µs

    [Fact]
    public void NtpConversionsRoundTrip()
    {
        // 2026-11-22 00:00:00 UTC is 3_973_017_600 s after 1900.
        long micros = 3_973_017_600L * 1_000_000 + 123_456;
        ulong ntp = SenderClock.MicrosToNtp(micros);
        Assert.Equal(3_973_017_600UL, ntp >> 32);
        Assert.InRange(SenderClock.NtpToMicros(ntp), micros - 1, micros);
        Assert.Equal(500_000, SenderClock.NtpToMicros(0x0000_0000_8000_0000UL));
    }

    /// <summary>Packets every <paramref name="periodMicros"/> from arrival <paramref name="from"/> to <paramref name="to"/>, timestamps at the clock rate.</summary>
    private static void Packets(SenderClock c, uint rtpAtZero, int clockRate, long periodMicros, long from, long to, long arrivalDelay = 30_000)
    {
        for (long t = from; t < to; t += periodMicros)
            c.OnPacket(unchecked(rtpAtZero + (uint)(t * clockRate / 1_000_000)), t + arrivalDelay);
    }

    [Fact]
    public void AudioAndVideoOfOneInstantMapToTheSameWallClock()
    {
        // One instant T: audio RTP 48 kHz and video 90 kHz have unrelated random offsets.
        long t = NtpEpoch;
        var audio = new SenderClock(48000);
        var video = new SenderClock(90000);
        Packets(audio, 1_000_000, 48000, 20_000, 0, 1_000_000);
        Packets(video, 7_000_000, 90000, 33_333, 0, 1_000_000);
        Assert.True(audio.OnSenderReport(SenderClock.MicrosToNtp(t + 1_000_000), 1_000_000 + 48000, 1_030_000));
        Assert.True(video.OnSenderReport(SenderClock.MicrosToNtp(t + 1_040_000), 7_000_000 + 90000 + 3600, 1_070_000)); // its SR was sent 40 ms later
        // 1.2 s after T in both streams:
        Assert.True(audio.TryMapToNtpMicros(1_000_000 + 57600, out long a));
        Assert.True(video.TryMapToNtpMicros(7_000_000 + 108000, out long v));
        Assert.InRange(a - t, 1_199_999, 1_200_001);
        Assert.InRange(v - t, 1_199_999, 1_200_001);
        Assert.Equal((1, 0), (audio.ReportsAccepted, audio.ReportsRejected));
    }

    [Fact]
    public void TimestampsBeforeTheReportAndAcrossTheWrapMapToo()
    {
        var c = new SenderClock(90000);
        Assert.False(c.TryMapToNtpMicros(0, out _));
        uint start = uint.MaxValue - 134_999; // 1.5 s before the wrap
        Packets(c, start, 90000, 33_333, 0, 1_000_000, arrivalDelay: 0);
        Assert.True(c.OnSenderReport(SenderClock.MicrosToNtp(10_000_000), uint.MaxValue - 44_999, 1_000_000)); // 0.5 s before the wrap
        Assert.True(c.TryMapToNtpMicros(45_000, out long after)); // 1 s later, across the wrap
        Assert.InRange(after, 10_999_999, 11_000_001);
        Assert.True(c.TryMapToNtpMicros(uint.MaxValue - 134_999, out long before)); // 1 s earlier
        Assert.InRange(before, 8_999_999, 9_000_001);
    }

    [Fact]
    public void AReportBeforeMedia_IsNotBelieved()
    {
        var c = new SenderClock(48000);
        Assert.False(c.OnSenderReport(SenderClock.MicrosToNtp(NtpEpoch), 1000, 0));
        Assert.False(c.HasMapping);
        Assert.Equal(1, c.ReportsRejected);
    }

    [Fact]
    public void RtpRunningAheadOfArrival_IsRejected_ThePreviousMappingStays()
    {
        // webrtcbin 1.22 under max-bundle: each SR's RTP timestamp runs ahead by ~0.96 s per second.
        var c = new SenderClock(90000);
        Packets(c, 5000, 90000, 33_333, 0, 1_000_000);
        Assert.True(c.OnSenderReport(SenderClock.MicrosToNtp(NtpEpoch + 1_000_000), 5000 + 90_000 + 2700, 1_030_000)); // 30 ms ahead: encoder latency, fine
        for (int s = 2; s <= 10; s++)
        {
            Packets(c, 5000, 90000, 33_333, (s - 1) * 1_000_000, s * 1_000_000);
            uint lying = (uint)(5000 + s * 90_000 + (long)(s * 0.96 * 90_000));
            Assert.False(c.OnSenderReport(SenderClock.MicrosToNtp(NtpEpoch + s * 1_000_000), lying, s * 1_000_000 + 30_000));
        }
        Assert.Equal((1, 9), (c.ReportsAccepted, c.ReportsRejected));
        Assert.True(c.TryMapToNtpMicros(5000 + 10 * 90_000, out long ntp));
        Assert.InRange(ntp - NtpEpoch, 9_960_000, 9_980_000); // the first report's mapping, 30 ms early
    }

    [Fact]
    public void AGarbageNtp_IsRejected_ButAClockThatSteppedIsFollowedAfterTwoReports()
    {
        var c = new SenderClock(48000);
        long offset = 777_000_000 - NtpEpoch; // arrival minus NTP
        bool Report(int s, long ntpError)
        {
            Packets(c, 100, 48000, 20_000, (s - 1) * 1_000_000, s * 1_000_000, arrivalDelay: 0);
            return c.OnSenderReport(SenderClock.MicrosToNtp(s * 1_000_000 - offset + ntpError), (uint)(100 + s * 48_000), s * 1_000_000 + 20_000);
        }
        Assert.True(Report(1, 0));
        Assert.True(Report(2, 0));
        Assert.False(Report(3, 123_456_789_000)); // garbage
        Assert.True(Report(4, 0));
        Assert.True(Report(5, 0));
        // The sender's NTP steps by 2 s (an NTP resync): doubted once, then followed.
        Assert.False(Report(6, 2_000_000));
        Assert.True(Report(7, 2_000_000));
        Assert.True(c.TryMapToNtpMicros(100 + 7 * 48_000, out long ntp));
        Assert.InRange(ntp - (7 * 1_000_000 - offset + 2_000_000), -1, 1);
        Assert.Equal((5, 2), (c.ReportsAccepted, c.ReportsRejected));
    }

    [Fact]
    public void ATimestampJump_DropsTheMapping_UntilTheNextReport()
    {
        var c = new SenderClock(90000);
        Packets(c, 1000, 90000, 33_333, 0, 1_000_000);
        Assert.True(c.OnSenderReport(SenderClock.MicrosToNtp(NtpEpoch + 1_000_000), 1000 + 90_000, 1_030_000));
        // The sender restarts with a random timestamp base.
        Packets(c, 2_000_000_000, 90000, 33_333, 1_000_000, 2_000_000);
        Assert.False(c.HasMapping);
        Assert.Equal(1, c.Discontinuities);
        Assert.True(c.OnSenderReport(SenderClock.MicrosToNtp(NtpEpoch + 2_000_000), 2_000_000_000 + 180_000, 2_030_000));
        Assert.True(c.TryMapToNtpMicros(2_000_000_000 + 180_000, out long ntp));
        Assert.InRange(ntp - (NtpEpoch + 2_000_000), -1, 1);
    }

    [Fact]
    public void ANetworkStall_IsNoJump()
    {
        var c = new SenderClock(90000);
        Packets(c, 1000, 90000, 33_333, 0, 1_000_000);
        Assert.True(c.OnSenderReport(SenderClock.MicrosToNtp(NtpEpoch + 1_000_000), 1000 + 90_000, 1_030_000));
        // 1.5 s of packets held up, then delivered at once.
        for (long t = 1_000_000; t < 2_500_000; t += 33_333)
            c.OnPacket((uint)(1000 + t * 9 / 100), 2_530_000 + t / 1000);
        Packets(c, 1000, 90000, 33_333, 2_500_000, 4_000_000);
        Assert.True(c.HasMapping);
        Assert.Equal(0, c.Discontinuities);
        Assert.True(c.OnSenderReport(SenderClock.MicrosToNtp(NtpEpoch + 4_000_000), 1000 + 360_000, 4_030_000));
    }

    [Fact]
    public void ArrivalJitter_DoesNotRejectHonestReports()
    {
        var c = new SenderClock(90000);
        var rng = new Random(5);
        for (int s = 1; s <= 30; s++)
        {
            for (long t = (s - 1) * 1_000_000; t < s * 1_000_000; t += 33_333)
                c.OnPacket((uint)(t * 9 / 100), t + 100_000 + rng.Next(-20_000, 20_001)); // 100 ms encoder latency
            Assert.True(c.OnSenderReport(SenderClock.MicrosToNtp(NtpEpoch + s * 1_000_000), (uint)(s * 90_000), s * 1_000_000 + rng.Next(-20_000, 20_001)), $"report {s}");
        }
    }
}
