namespace Engine.Gcc.Tests;

public class AbsSendTimeTests
{
    [Fact]
    public void OneSecondIsTwoToThe18Ticks()
    {
        var clock = new AbsSendTime();
        long t0 = clock.Unwrap(0x10_0000);
        long t1 = clock.Unwrap(0x10_0000 + AbsSendTime.TicksPerSecond);
        Assert.Equal(1_000_000, t1 - t0);
    }

    [Fact]
    public void WrapAt64Seconds_KeepsTimeMonotonic()
    {
        var clock = new AbsSendTime();
        uint near = AbsSendTime.Mask - 100; // 100 ticks before the wrap
        long before = clock.Unwrap(near);
        long after = clock.Unwrap(50); // 151 ticks later, across the wrap
        Assert.Equal(AbsSendTime.TicksToMicros(151), after - before);
        Assert.True(after > before);
    }

    [Fact]
    public void ManyWraps_AccumulateWithoutDrift()
    {
        var clock = new AbsSendTime();
        long first = clock.Unwrap(0);
        long last = first;
        for (long us = 10_000; us <= 200_000_000; us += 10_000) // 200 s: three wraps
            last = clock.Unwrap(AbsSendTime.FromMicros(us));
        Assert.InRange(last - first, 200_000_000 - 4, 200_000_000 + 4); // one tick is ~3.8 us
    }

    [Fact]
    public void SmallStepBack_IsReorderingNotAWrap()
    {
        var clock = new AbsSendTime();
        long a = clock.Unwrap(1000);
        long b = clock.Unwrap(900);
        Assert.True(b < a);
        Assert.Equal(AbsSendTime.TicksToMicros(100), a - b);
    }

    [Fact]
    public void UpperBitsAreIgnored()
    {
        var a = new AbsSendTime();
        var b = new AbsSendTime();
        Assert.Equal(a.Unwrap(0x12_3456), b.Unwrap(0xFF12_3456));
    }
}
