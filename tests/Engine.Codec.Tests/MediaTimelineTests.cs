using Xunit;

namespace Engine.Codec.Tests;

public sealed class MediaTimelineTests
{
    [Fact]
    public void FollowsRtpTimestamps_NotArrivalJitter_AcrossTheWrap()
    {
        var t = new MediaTimeline(1);
        uint ts = uint.MaxValue - 3000;
        long first = t.ToMillis(0, ts, 90000, -1, 1_000_000);
        Assert.Equal(0, first);
        // 33 ms steps across the 32-bit wrap, arrival jittering by +-20 ms.
        for (int i = 1; i <= 10; i++)
            Assert.Equal(i * 100 / 3, t.ToMillis(0, unchecked(ts + (uint)(i * 3000)), 90000, -1, 1_000_000 + i * 33_333 + (i % 2 == 0 ? 20_000 : -20_000)));
    }

    [Fact]
    public void SenderReportClock_AlignsAudioAndVideo()
    {
        var t = new MediaTimeline(2);
        const long ntp = 3_900_000_000_000_000;
        // Video arrives 80 ms after audio for the same capture instant (a slower path); the SR clock knows better.
        long v = t.ToMillis(0, 1000, 90000, ntp, 1_080_000);
        long a = t.ToMillis(1, 5000, 48000, ntp, 1_000_000);
        Assert.Equal(v, a);
        long v2 = t.ToMillis(0, 1000 + 90000, 90000, ntp + 1_000_000, 2_080_000);
        long a2 = t.ToMillis(1, 5000 + 48000, 48000, ntp + 1_000_000, 2_000_000);
        Assert.Equal(v2, a2);
        Assert.Equal(1000, v2 - v);
    }

    [Fact]
    public void NeverStepsBack_EvenWhenTheSenderClockDoes()
    {
        var t = new MediaTimeline(1);
        long last = -1;
        long[] ntps = [-1, -1, 5_000_000, 4_000_000, 4_100_000, 6_000_000];
        for (int i = 0; i < ntps.Length; i++)
        {
            long ms = t.ToMillis(0, (uint)(i * 3000), 90000, ntps[i], i * 33_000);
            Assert.True(ms > last, $"frame {i}: {ms} after {last}");
            last = ms;
        }
    }

    [Fact]
    public void NewSsrcJump_RebasesOnArrival()
    {
        var t = new MediaTimeline(1);
        t.ToMillis(0, 1000, 90000, -1, 0);
        long before = t.ToMillis(0, 4000, 90000, -1, 33_000);
        // A new SSRC starts at a random timestamp: hours away in RTP time, 33 ms later in real time.
        long after = t.ToMillis(0, 1_500_000_000, 90000, -1, 66_000);
        Assert.InRange(after - before, 1, 100);
    }
}
