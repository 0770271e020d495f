using Engine.Gcc;
using Engine.Host.Peers;

namespace Engine.Host.Tests.Peers;

/// <summary>
/// The estimators of src/Gcc wired into the Peer, over a rate-limited <see cref="MemoryLink"/> on the fake clock:
/// the receive side's REMB (publishers, RTP_AUTO_BITRATE=1) and the send side's target (players).
/// </summary>
public class PeerCongestionControlTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const long FrameMicros = 33_333;

    /// <summary>One H.264 NAL of filler (no start-code emulation) that any prefix of is still a frame.</summary>
    private static byte[] FillerFrame(int maxBytes)
    {
        var f = new byte[maxBytes];
        f[3] = 1;
        f[4] = 0x41; // non-IDR slice
        f.AsSpan(5).Fill(0xAB);
        return f;
    }

    [Fact]
    public void Remb_FallsUnderTheCap_OnARateLimitedLink_AndRecovers()
    {
        const long cap = 2_500_000, floor = 100_000;
        using var pair = new PeerPair(71, serverReceiveEstimator: new ReceiveSideEstimatorOptions(floor, cap, cap), serverRembBps: cap);
        pair.Link.DelayMicros = 20_000;
        pair.Connect();
        pair.Link.Bottlenecked = d => d.To == PeerPair.ServerAddress;
        var frame = FillerFrame(64 * 1024);
        const int frameBytes = 1_500_000 / 8 / 30; // a 1.5 Mbps source that does not follow the REMB
        uint ts = 0;
        var rembs = new List<(long At, long Bps)>();
        void Tick(long now)
        {
            pair.Client.WriteFrame(0, frame.AsSpan(0, frameBytes), ts += 3000, now);
            rembs.Add((now, pair.Client.RemoteRembBps));
        }
        long t0 = pair.Now;
        pair.Run(t0 + 8_000_000, Tick, FrameMicros);
        long freeMin = rembs.Where(r => r.At > t0 + 2_000_000).Min(r => r.Bps);

        pair.Link.RateBps = 1_000_000;
        pair.Run(t0 + 28_000_000, Tick, FrameMicros);
        var limited = rembs.Where(r => r.At > t0 + 18_000_000 && r.At <= t0 + 28_000_000).Select(r => r.Bps).ToArray();

        pair.Link.RateBps = 0;
        pair.Run(t0 + 58_000_000, Tick, FrameMicros);
        long recovered = rembs[^1].Bps;

        Assert.True(pair.Link.QueueDropped > 0 || pair.Server.ReceiveEstimator!.Usage != BandwidthUsage.Normal || limited.Max() < cap,
            "the bottleneck never filled");
        Assert.True(freeMin >= 1_500_000, $"REMB on the free link fell to {freeMin}");
        Assert.True(limited.Max() <= 1_300_000, $"REMB on the 1 Mbps link up to {limited.Max()}");
        Assert.True(limited.Min() >= floor, $"REMB under the floor: {limited.Min()}");
        Assert.True(recovered >= 1_500_000, $"REMB after the limit lifted: {recovered}");
        output.WriteLine($"REMB free min {freeMin}, limited {limited.Min()}-{limited.Max()}, recovered {recovered}, sent {pair.Server.Counters.RembSent}, queue drops {pair.Link.QueueDropped}");
        // REMB carries an 18-bit mantissa: the value arrives rounded down by at most 2^-17.
        Assert.InRange(pair.Client.RemoteRembBps, pair.Server.LastRembSentBps - pair.Server.LastRembSentBps / 100_000, pair.Server.LastRembSentBps);
        Assert.True(pair.Client.Counters.RembReceived > 30, $"{pair.Client.Counters.RembReceived} REMBs");
        // The fixed cap never rides in the receiver reports while the estimator runs: every REMB is the estimate.
        Assert.Contains(limited, b => b < cap);
    }

    [Fact]
    public void Remb_StaysWithinTheConfiguredBounds_OverAFastSource()
    {
        using var pair = new PeerPair(72, serverReceiveEstimator: new ReceiveSideEstimatorOptions(100_000, 800_000, 800_000), serverRembBps: 800_000);
        pair.Connect();
        var frame = FillerFrame(8192); // ~2 Mbps, over the 800 kbps cap
        uint ts = 0;
        pair.Run(pair.Now + 3_000_000, now => pair.Client.WriteFrame(0, frame, ts += 3000, now), FrameMicros);
        Assert.True(pair.Server.ReceiveEstimator!.Packets > 50);
        Assert.InRange(pair.Client.RemoteRembBps, 100_000, 800_000);
    }

    [Fact]
    public void WithoutAnEstimator_TheFixedCapRidesInTheReceiverReports()
    {
        using var pair = new PeerPair(74, serverRembBps: 800_000);
        pair.Connect();
        var frame = FillerFrame(4096);
        uint ts = 0;
        pair.Run(pair.Now + 2_000_000, now => pair.Client.WriteFrame(0, frame, ts += 3000, now), FrameMicros);
        Assert.Null(pair.Server.ReceiveEstimator);
        Assert.Equal(800_000, pair.Server.LastRembSentBps);
        Assert.InRange(pair.Client.RemoteRembBps, 799_990, 800_000); // 18-bit mantissa
        Assert.True(pair.Server.Counters.RembSent >= 5, $"{pair.Server.Counters.RembSent} REMBs");
    }

    [Fact]
    public void TargetBps_SettlesNearTheLinkRate_OfAOneMegabitLink()
    {
        const long link = 1_000_000;
        using var pair = new PeerPair(73, serverSendEstimator: SendSideEstimatorOptions.Default);
        pair.Link.DelayMicros = 25_000;
        pair.Connect();
        pair.Link.Bottlenecked = d => d.To == PeerPair.ClientAddress;
        pair.Link.RateBps = link;
        var server = pair.Server;
        long start = server.TargetBps;
        var frame = FillerFrame(64 * 1024);
        uint ts = 0;
        var targets = new List<(long At, long Bps)>();
        void Tick(long now)
        {
            // An ideal encoder: each frame is what the target allows.
            int bytes = (int)Math.Clamp(server.TargetBps / 8 / 30, 200, frame.Length);
            server.WriteFrame(0, frame.AsSpan(0, bytes), ts += 3000, now);
            targets.Add((now, server.TargetBps));
        }
        long t0 = pair.Now;
        pair.Run(t0 + 60_000_000, Tick, FrameMicros);

        var settled = targets.Where(t => t.At > t0 + 40_000_000).Select(t => t.Bps).ToArray();
        double mean = settled.Average();
        output.WriteLine($"target mean {mean:F0}, {settled.Min()}-{settled.Max()} over the last 20 s; feedback {server.SendEstimator!.FeedbackReports}, queue drops {pair.Link.QueueDropped}");
        Assert.Equal(SendSideEstimatorOptions.Default.StartBps, start);
        Assert.True(server.SendEstimator!.FeedbackReports > 100, $"{server.SendEstimator.FeedbackReports} feedback reports");
        Assert.True(mean >= 0.6 * link && mean <= 1.25 * link, $"mean target {mean:F0} bps over the last 20 s on a {link} bps link");
        Assert.True(settled.Max() <= 1.6 * link, $"target up to {settled.Max()}");
    }
}
