using Engine.Host.Playback;

namespace Engine.Host.Tests.Playback;

public class KeyframeTests
{
    [Fact]
    public void CoalescerPassesOneRequestPerIntervalOnAFakeClock()
    {
        var c = new KeyframeRequestCoalescer(500_000);
        long now = 1_000_000;
        Assert.True(c.TryRequest(now));
        // Ten players joining within 400 ms: none passes.
        for (int i = 1; i <= 10; i++)
            Assert.False(c.TryRequest(now + i * 40_000));
        Assert.False(c.TryRequest(now + 499_999));
        Assert.True(c.TryRequest(now + 500_000));
        Assert.False(c.TryRequest(now + 700_000));
        Assert.True(c.TryRequest(now + 1_000_001));
        Assert.Equal(3, c.Passed);
        Assert.Equal(12, c.Coalesced);
    }

    [Fact]
    public void H264KeyframeStartsAreSeenInSingleStapAAndFuA()
    {
        Assert.True(KeyframeDetector.IsH264KeyframeStart([0x67, 0x42, 0xe0]));         // SPS
        Assert.True(KeyframeDetector.IsH264KeyframeStart([0x65, 0x88]));               // IDR
        Assert.False(KeyframeDetector.IsH264KeyframeStart([0x41, 0x9a]));              // non-IDR slice
        Assert.False(KeyframeDetector.IsH264KeyframeStart([0x68, 0xce]));              // PPS alone
        // STAP-A: SEI (6) then SPS
        Assert.True(KeyframeDetector.IsH264KeyframeStart([0x18, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x67, 0x42]));
        Assert.False(KeyframeDetector.IsH264KeyframeStart([0x18, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x68, 0xce]));
        Assert.False(KeyframeDetector.IsH264KeyframeStart([0x18, 0x00, 0x09, 0x67]));  // truncated
        // FU-A of an IDR: the start fragment only
        Assert.True(KeyframeDetector.IsH264KeyframeStart([0x7c, 0x85, 0xb8]));
        Assert.False(KeyframeDetector.IsH264KeyframeStart([0x7c, 0x05, 0xb8]));
        Assert.False(KeyframeDetector.IsH264KeyframeStart([0x7c, 0x81, 0xb8]));        // FU-A start of a non-IDR
        Assert.False(KeyframeDetector.IsH264KeyframeStart([]));
    }

    [Fact]
    public void Vp8AndVp9KeyframeStartsAreSeen()
    {
        // VP8: X=1, S=1, PID 0; I with a 15-bit picture id; then the payload header with P=0 (key) or 1.
        Assert.True(KeyframeDetector.IsVp8KeyframeStart([0x90, 0x80, 0x81, 0x23, 0x10]));
        Assert.False(KeyframeDetector.IsVp8KeyframeStart([0x90, 0x80, 0x81, 0x23, 0x11]));
        Assert.False(KeyframeDetector.IsVp8KeyframeStart([0x80, 0x80, 0x81, 0x23, 0x10])); // not the start
        Assert.True(KeyframeDetector.IsVp8KeyframeStart([0x10, 0x10]));
        // VP9: B set, P clear
        Assert.True(KeyframeDetector.IsVp9KeyframeStart([0x88]));
        Assert.False(KeyframeDetector.IsVp9KeyframeStart([0xc8]));
        Assert.False(KeyframeDetector.IsVp9KeyframeStart([0x84]));
    }
}
