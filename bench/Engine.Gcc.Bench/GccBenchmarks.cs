using BenchmarkDotNet.Attributes;

namespace Engine.Gcc.Bench;

/// <summary>
/// Per-packet cost of the receive-side estimator on a realistic stream: 30 fps frames of four
/// 1200-byte packets whose delay ramps up and down (so groups close, the trendline and detector run
/// and the rate controller changes state). Should allocate 0 B.
/// </summary>
[MemoryDiagnoser]
public class GccBenchmarks
{
    private const int Packets = 4096;
    private readonly long[] _arrival = new long[Packets];
    private readonly uint[] _absSendTime = new uint[Packets];
    private ReceiveSideEstimator _estimator = null!;
    private long _offset;

    [GlobalSetup]
    public void Setup()
    {
        _estimator = new ReceiveSideEstimator();
        long delay = 0;
        for (int i = 0; i < Packets; i++)
        {
            int frame = i / 4;
            long send = frame * 33_333L + (i % 4) * 200;
            delay = Math.Max(0, delay + ((frame / 30) % 2 == 0 ? 400 : -400) / 4);
            _arrival[i] = send + 20_000 + delay;
            _absSendTime[i] = AbsSendTime.FromMicros(send);
        }
    }

    [Benchmark(Description = "ReceiveSideEstimator.OnPacket (per packet)", OperationsPerInvoke = Packets)]
    public long OnPacket()
    {
        var e = _estimator;
        long offset = _offset;
        uint sendOffset = AbsSendTime.FromMicros(offset);
        for (int i = 0; i < Packets; i++)
            e.OnPacket(_arrival[i] + offset, (_absSendTime[i] + sendOffset) & AbsSendTime.Mask, 1200);
        // The next invocation continues the stream where this one ended.
        _offset = offset + Packets / 4 * 33_333L;
        return e.Estimate;
    }

    [Benchmark(Description = "ReceiveSideEstimator.TryTakeRemb (per call, 1 ms apart)", OperationsPerInvoke = 1000)]
    public long TryTakeRemb()
    {
        long sum = 0, now = _offset;
        for (int i = 0; i < 1000; i++)
        {
            now += 1_000;
            if (_estimator.TryTakeRemb(now, out long bps)) sum += bps;
        }
        _offset = now;
        return sum;
    }
}
