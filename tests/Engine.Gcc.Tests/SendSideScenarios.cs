namespace Engine.Gcc.Tests;

/// <summary>
/// The send-side cases (RFC 8867 §5 and the loss and ramp cases), each a fresh deterministic
/// <see cref="SendSideScenario"/>. 50 ms one-way delay and a 300 ms drop-tail queue everywhere; the
/// backward link is an uncongested 10 Mbps unless the case says otherwise.
/// </summary>
public static class SendSideScenarios
{
    public const long OneWayMicros = 50_000;
    public const long QueueMicros = 300_000;
    public static readonly SendSideEstimatorOptions Options = new(50_000, 5_000_000, 300_000);

    private const long S = 1_000_000;

    private static LinkEmulator Link(int seed, params (long At, long Bps)[] schedule) =>
        new(seed, schedule) { OneWayDelayMicros = OneWayMicros, QueueLimitMicros = QueueMicros };

    private static LinkEmulator Feedback(int seed) => Link(seed, (0, 10_000_000));

    /// <summary>§5.1 variable available capacity: 1 / 2.5 / 0.6 / 1 Mbps at 0 / 40 / 60 / 80 s, 100 s.</summary>
    public static SendSideScenario Rfc8867_5_1()
    {
        var link = Link(1, (0, 1_000_000), (40 * S, 2_500_000), (60 * S, 600_000), (80 * S, 1_000_000));
        var flow = new SendSideFlow("A", Options, link, Feedback(2));
        return new SendSideScenario("5.1", "variable capacity 1 / 2.5 / 0.6 / 1 Mbps at 0 / 40 / 60 / 80 s",
            new SendSideLoop(flow), 100 * S, [0, 40 * S, 60 * S, 80 * S]);
    }

    /// <summary>Two flows on one bottleneck of 4 / 2 / 3.5 / 1 / 2 Mbps at 0 / 25 / 50 / 75 / 100 s, 125 s; B joins 5 s after A.</summary>
    public static SendSideScenario TwoFlows()
    {
        var link = Link(3, (0, 4_000_000), (25 * S, 2_000_000), (50 * S, 3_500_000), (75 * S, 1_000_000), (100 * S, 2_000_000));
        var a = new SendSideFlow("A", Options, link, Feedback(4));
        var b = new SendSideFlow("B", Options, link, Feedback(5)) { StartMicros = 5 * S };
        return new SendSideScenario("5.2", "two flows sharing 4 / 2 / 3.5 / 1 / 2 Mbps at 0 / 25 / 50 / 75 / 100 s (B starts at 5 s)",
            new SendSideLoop(a, b), 125 * S, [0, 25 * S, 50 * S, 75 * S, 100 * S]);
    }

    /// <summary>
    /// §5.3 congested feedback link with media both ways: A→B over the forward link (2 / 1 / 0.5 / 2 Mbps
    /// at 0 / 20 / 40 / 60 s), B→A over the backward link (2 / 0.8 / 2 Mbps at 0 / 35 / 70 s), each flow's
    /// feedback riding the other's congested link; 100 s.
    /// </summary>
    public static SendSideScenario CongestedFeedback()
    {
        var forward = Link(6, (0, 2_000_000), (20 * S, 1_000_000), (40 * S, 500_000), (60 * S, 2_000_000));
        var backward = Link(7, (0, 2_000_000), (35 * S, 800_000), (70 * S, 2_000_000));
        var a = new SendSideFlow("A>B", Options, forward, backward) { PhaseStarts = [0, 20 * S, 40 * S, 60 * S] };
        var b = new SendSideFlow("B>A", Options, backward, forward) { PhaseStarts = [0, 35 * S, 70 * S] };
        return new SendSideScenario("5.3", "congested feedback: forward 2 / 1 / 0.5 / 2 Mbps at 0 / 20 / 40 / 60 s, backward 2 / 0.8 / 2 Mbps at 0 / 35 / 70 s",
            new SendSideLoop(a, b), 100 * S, [0]);
    }

    /// <summary>10% random loss on a 2 Mbps link for 60 s.</summary>
    public static SendSideScenario Loss10()
    {
        var link = new LinkEmulator(8, 2_000_000) { OneWayDelayMicros = OneWayMicros, QueueLimitMicros = QueueMicros, RandomLoss = 0.10 };
        var flow = new SendSideFlow("A", Options, link, Feedback(9));
        return new SendSideScenario("loss10", "10% random loss, 2 Mbps, 60 s", new SendSideLoop(flow), 60 * S, [0]);
    }

    /// <summary>3% random loss while the link goes from 2 to 5 Mbps at 30 s; 60 s.</summary>
    public static SendSideScenario Loss3Ramp()
    {
        var link = new LinkEmulator(10, 2_000_000) { OneWayDelayMicros = OneWayMicros, QueueLimitMicros = QueueMicros, RandomLoss = 0.03 }
            .At(30 * S, 5_000_000);
        var flow = new SendSideFlow("A", Options with { MaxBps = 10_000_000 }, link, Feedback(11));
        return new SendSideScenario("loss3", "3% random loss, 2 Mbps then 5 Mbps at 30 s, 60 s", new SendSideLoop(flow), 60 * S, [0, 30 * S]);
    }

    /// <summary>A 10 Mbps link from a 300 kbps start (max 20 Mbps); 30 s.</summary>
    public static SendSideScenario Ramp10M()
    {
        var flow = new SendSideFlow("A", Options with { MaxBps = 20_000_000 }, Link(12, (0, 10_000_000)), Feedback(13));
        return new SendSideScenario("10M", "10 Mbps link from a 300 kbps start", new SendSideLoop(flow), 30 * S, [0]);
    }

    /// <summary>An app-limited source (500 kbps encoder cap) on a 2 Mbps link for 30 s.</summary>
    public static SendSideScenario AppLimited()
    {
        var flow = new SendSideFlow("A", Options, Link(14, (0, 2_000_000)), Feedback(15)) { EncoderMaxBps = 500_000 };
        return new SendSideScenario("alr", "encoder capped at 500 kbps on a 2 Mbps link", new SendSideLoop(flow), 30 * S, [0]);
    }

    public static IEnumerable<Func<SendSideScenario>> All() =>
        [Rfc8867_5_1, TwoFlows, CongestedFeedback, Loss10, Loss3Ramp, Ramp10M, AppLimited];
}
