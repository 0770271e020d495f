namespace Engine.Gcc;

/// <summary>Bounds and start value of a <see cref="SendSideEstimator"/>, in bits per second.</summary>
public readonly record struct SendSideEstimatorOptions(long MinBps, long MaxBps, long StartBps)
{
    /// <summary>A floor that still carries audio and a thumbnail, a ceiling for one HD stream, and a typical start.</summary>
    public static SendSideEstimatorOptions Default => new(50_000, 5_000_000, 300_000);
}
