namespace Engine.Gcc.Tests;

public class RembSchedulerTests
{
    [Fact]
    public void FirstEstimate_GoesOutAtOnce()
    {
        var s = new RembScheduler();
        Assert.True(s.ShouldSend(0, 500_000));
        Assert.Equal(500_000, s.LastSentBps);
    }

    [Fact]
    public void DropBelow97Percent_GoesOutAtOnce_SmallDropWaits()
    {
        var s = new RembScheduler();
        s.ShouldSend(0, 1_000_000);
        Assert.False(s.ShouldSend(10_000, 975_000)); // 97.5%: not urgent
        Assert.True(s.ShouldSend(20_000, 969_000));
        Assert.True(s.ShouldSend(21_000, 900_000)); // urgent again, even 1 ms later
    }

    [Fact]
    public void Increase_AtMostEvery200ms()
    {
        var s = new RembScheduler();
        s.ShouldSend(0, 1_000_000);
        Assert.False(s.ShouldSend(199_999, 1_100_000));
        Assert.True(s.ShouldSend(200_000, 1_100_000));
        Assert.False(s.ShouldSend(300_000, 1_200_000));
    }

    [Fact]
    public void UnchangedValue_RepeatedEverySecond()
    {
        var s = new RembScheduler();
        s.ShouldSend(0, 1_000_000);
        Assert.False(s.ShouldSend(500_000, 1_000_000));
        Assert.False(s.ShouldSend(999_999, 1_000_000));
        Assert.True(s.ShouldSend(1_000_000, 1_000_000));
        Assert.False(s.ShouldSend(1_500_000, 1_000_000));
        Assert.True(s.ShouldSend(2_000_000, 1_000_000));
    }
}
