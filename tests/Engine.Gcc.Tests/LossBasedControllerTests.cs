namespace Engine.Gcc.Tests;

public class LossBasedControllerTests
{
    [Fact]
    public void LowLoss_Increases5PercentAtMostOncePerSecond()
    {
        var c = new LossBasedController(10_000, 10_000_000, 1_000_000);
        Assert.Equal(1_051_000, c.OnLoss(0.01, 0));
        Assert.Equal(1_051_000, c.OnLoss(0.0, 500_000));
        Assert.Equal((long)(1_051_000 * 1.05 + 1000), c.OnLoss(0.0, 1_000_000));
    }

    [Fact]
    public void MidLoss_Holds()
    {
        var c = new LossBasedController(10_000, 10_000_000, 1_000_000);
        Assert.Equal(1_000_000, c.OnLoss(0.05, 0));
        Assert.Equal(1_000_000, c.OnLoss(0.02, 2_000_000));
        Assert.Equal(1_000_000, c.OnLoss(0.10, 4_000_000));
    }

    [Fact]
    public void HighLoss_DecreasesByHalfTheLoss()
    {
        var c = new LossBasedController(10_000, 10_000_000, 1_000_000);
        Assert.Equal(900_000, c.OnLoss(0.2, 0));
        Assert.Equal(900_000, c.OnLoss(0.2, 100_000)); // too soon
        Assert.Equal(810_000, c.OnLoss(0.2, 300_000));
    }

    [Fact]
    public void FractionLostField_IsOver256_AndBadValuesAreIgnored()
    {
        var c = new LossBasedController(10_000, 10_000_000, 1_000_000);
        Assert.Equal(1_000_000 - 1_000_000 * 64 / 256 / 2, c.OnFractionLost(64, 0)); // 25% → ×0.875
        long before = c.EstimateBps;
        Assert.Equal(before, c.OnLoss(double.NaN, 10_000_000));
        Assert.Equal(before, c.OnLoss(1.5, 10_000_000));
    }

    [Fact]
    public void StaysWithinBounds_AndCanBeCappedToTheDelayEstimate()
    {
        var c = new LossBasedController(100_000, 2_000_000, 1_000_000);
        for (int i = 0; i < 50; i++) c.OnLoss(0, i * 1_000_000L);
        Assert.Equal(2_000_000, c.EstimateBps);
        for (int i = 0; i < 50; i++) c.OnLoss(1, 100_000_000 + i * 1_000_000L);
        Assert.Equal(100_000, c.EstimateBps);
        c.OnLoss(0, 200_000_000);
        c.CapTo(50_000);
        Assert.Equal(100_000, c.EstimateBps);
    }
}
