namespace Engine.Gcc;

/// <summary>Bounds and start value of a <see cref="ReceiveSideEstimator"/>, in bits per second.</summary>
public readonly record struct ReceiveSideEstimatorOptions(long MinBps, long MaxBps, long InitialBps)
{
    /// <summary>libwebrtc's floor and a typical start for one video stream.</summary>
    public static ReceiveSideEstimatorOptions Default => new(30_000, 2_500_000, 300_000);
}
