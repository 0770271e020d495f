namespace Engine.Gcc.Tests;

public class AlrDetectorTests
{
    [Fact]
    public void SendingUnderTheUsageRatio_IsApplicationLimited_AndFullUseEndsIt()
    {
        var alr = new AlrDetector(1_000_000);
        long now = 0;
        // 1 Mbps target, sending 400 kbps (40%): under 65%.
        for (int i = 0; i < 200; i++, now += 10_000)
            alr.OnBytesSent(500, now);
        Assert.True(alr.InAlr);
        Assert.True(alr.AlrStartMicros > 0);
        // Now 1 Mbps: the budget drains and ALR ends.
        for (int i = 0; i < 100; i++, now += 10_000)
            alr.OnBytesSent(1250, now);
        Assert.False(alr.InAlr);
        Assert.Equal(long.MinValue, alr.AlrStartMicros);
    }

    [Fact]
    public void SendingAtTheTarget_NeverEntersAlr()
    {
        var alr = new AlrDetector(1_000_000);
        for (long now = 0; now < 5_000_000; now += 10_000)
        {
            alr.OnBytesSent(1250, now);
            Assert.False(alr.InAlr);
        }
    }

    [Fact]
    public void Silence_IsApplicationLimited()
    {
        var alr = new AlrDetector(1_000_000);
        alr.OnBytesSent(1250, 0);
        alr.OnTime(1_000_000);
        Assert.True(alr.InAlr);
    }
}
