using Engine.Rtp.Receive;

namespace Engine.Rtp.Tests.Receive;

public class SenderClockTests
{
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

    [Fact]
    public void AudioAndVideoOfOneInstantMapToTheSameWallClock()
    {
        // One instant T: audio RTP 48 kHz and video 90 kHz have unrelated random offsets.
        long t = 3_973_017_600L * 1_000_000;
        var audio = new SenderClock(48000);
        var video = new SenderClock(90000);
        audio.OnSenderReport(SenderClock.MicrosToNtp(t), 1_000_000);
        video.OnSenderReport(SenderClock.MicrosToNtp(t + 40_000), 7_000_000 + 3600); // its SR was sent 40 ms later
        // 200 ms after T in both streams:
        Assert.True(audio.TryMapToNtpMicros(1_000_000 + 9600, out long a));
        Assert.True(video.TryMapToNtpMicros(7_000_000 + 18000, out long v));
        Assert.InRange(a - t, 199_999, 200_001);
        Assert.InRange(v - t, 199_999, 200_001);
    }

    [Fact]
    public void TimestampsBeforeTheReportAndAcrossTheWrapMapToo()
    {
        var c = new SenderClock(90000);
        Assert.False(c.TryMapToNtpMicros(0, out _));
        c.OnSenderReport(SenderClock.MicrosToNtp(10_000_000), uint.MaxValue - 44_999); // 0.5 s before the wrap
        Assert.True(c.TryMapToNtpMicros(45_000, out long after)); // 1 s later, across the wrap
        Assert.InRange(after, 10_999_999, 11_000_001);
        Assert.True(c.TryMapToNtpMicros(uint.MaxValue - 134_999, out long before)); // 1 s earlier
        Assert.InRange(before, 8_999_999, 9_000_001);
    }
}
