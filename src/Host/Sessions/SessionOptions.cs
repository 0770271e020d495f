using Engine.Host.Config;

namespace Engine.Host.Sessions;

/// <summary>The [RTP] settings a publish session runs with. LossSeed seeds RTP_TEST's loss (tests); random when null.</summary>
public sealed record SessionOptions(long PliIntervalMicros, bool AutoBitrate, long MinVideoBps, long MaxVideoBps, bool SimulateLoss, int? LossSeed = null)
{
    public static SessionOptions From(EngineConfig c) =>
        new(c.PliMaxIntervalSeconds * 1_000_000L, c.AutoBitrate, c.MinVideoBps, c.MaxVideoBps, c.SimulateLoss, c.LossSeed);
}
