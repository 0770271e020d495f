using BenchmarkDotNet.Attributes;
using Engine.Rtp.Rtcp;
using Engine.Rtp.Send;

namespace Engine.Gcc.Bench;

/// <summary>
/// Per-packet and per-feedback-report cost of the send side: the pacer (enqueue and poll of a mix of
/// audio, retransmissions and video at 2 Mbps), the estimator's OnPacketSent, and one transport-cc
/// report of 20 packets (alone, and with parsing and matching against the send history, as the send path
/// runs it). Should allocate 0 B.
/// </summary>
[MemoryDiagnoser]
public class SendSideBenchmarks
{
    private const int Packets = 4096, ReportPackets = 20, Reports = Packets / ReportPackets;
    private Pacer _pacer = null!;
    private SendSideEstimator _estimator = null!;
    private SendHistory _history = null!;
    private readonly SentPacketResult[] _results = new SentPacketResult[Packets];
    private readonly SentPacketResult[] _matched = new SentPacketResult[64];
    private readonly byte[][] _feedback = new byte[Reports][];
    private readonly SendSideEstimator _matchEstimator = new();
    private long _now, _seq, _offset, _matchOffset;

    [GlobalSetup]
    public void Setup()
    {
        _pacer = new Pacer();
        _pacer.SetTarget(2_000_000, 0);
        _estimator = new SendSideEstimator(new SendSideEstimatorOptions(50_000, 5_000_000, 1_000_000));
        _history = new SendHistory(8192);
        // 30 fps of 4 x 1200-byte packets whose delay ramps up and down, as the receive-side bench does.
        long delay = 0;
        for (int i = 0; i < Packets; i++)
        {
            int frame = i / 4;
            long send = frame * 33_333L + (i % 4) * 200;
            delay = Math.Max(0, delay + ((frame / 30) % 2 == 0 ? 400 : -400) / 4);
            _results[i] = new SentPacketResult(i, send, 1200, i % 50 != 0, i % 50 != 0 ? send + 20_000 + delay : -1);
            _history.Record((ushort)i, send, 1200);
        }
        var builder = new TransportFeedbackBuilder();
        for (int r = 0; r < Reports; r++)
        {
            for (int i = r * ReportPackets; i < (r + 1) * ReportPackets; i++)
                if (_results[i].Received) builder.AddReceivedPacket(i, _results[i].ArrivalMicros);
            var buffer = new byte[1200];
            _feedback[r] = buffer.AsSpan(0, builder.Write(buffer, 1, 2)).ToArray();
        }
    }

    [Benchmark(Description = "Pacer.TryEnqueue + TryPoll (per packet)", OperationsPerInvoke = Packets)]
    public long Pacer()
    {
        var p = _pacer;
        long now = _now, sent = 0;
        for (int i = 0; i < Packets; i++)
        {
            now += 4_800; // 2 Mbps of 1200-byte packets
            var kind = i % 10 == 0 ? PacedPacketKind.Audio : i % 17 == 0 ? PacedPacketKind.Retransmission : PacedPacketKind.Video;
            p.TryEnqueue(kind, kind == PacedPacketKind.Audio ? 100 : 1200, i, now);
            while (p.NextWakeMicros(now) <= now && p.TryPoll(now, out var x))
                sent += x.Size;
        }
        _now = now;
        return sent;
    }

    [Benchmark(Description = "SendSideEstimator.OnPacketSent (per packet)", OperationsPerInvoke = Packets)]
    public long OnPacketSent()
    {
        var e = _estimator;
        long seq = _seq, now = _now;
        for (int i = 0; i < Packets; i++)
            e.OnPacketSent(seq++, now += 4_800, 1200, -1, false);
        _seq = seq;
        _now = now;
        return e.TargetBps;
    }

    [Benchmark(Description = "SendSideEstimator.OnTransportFeedback (per report of 20)", OperationsPerInvoke = Reports)]
    public long OnTransportFeedback()
    {
        var e = _estimator;
        long offset = _offset;
        Span<SentPacketResult> shifted = stackalloc SentPacketResult[ReportPackets];
        for (int r = 0; r < Reports; r++)
        {
            for (int i = 0; i < ReportPackets; i++)
            {
                ref readonly var x = ref _results[r * ReportPackets + i];
                shifted[i] = new SentPacketResult(x.TransportSequenceNumber, x.SendMicros + offset, x.Size, x.Received, x.Received ? x.ArrivalMicros + offset : -1);
            }
            e.OnTransportFeedback(shifted, shifted[^1].SendMicros + offset + 60_000);
        }
        // The next invocation continues the stream where this one ended.
        _offset = offset + Packets / 4 * 33_333L;
        return e.TargetBps;
    }

    /// <summary>
    /// The whole send-path step per report: SendHistory.Record of its 20 packets (send times moving on with the
    /// stream), parsing the feedback packet, SendHistory.Match and OnTransportFeedback. The feedback bytes are
    /// fixed, so the receiver's clock repeats every 4096 packets (the grouper restarts once per invocation).
    /// </summary>
    [Benchmark(Description = "Record + parse + Match + OnTransportFeedback (per report of 20)", OperationsPerInvoke = Reports)]
    public long RecordParseMatchAndEstimate()
    {
        var e = _matchEstimator;
        var h = _history;
        long offset = _matchOffset, n = 0;
        for (int r = 0; r < Reports; r++)
        {
            for (int i = r * ReportPackets; i < (r + 1) * ReportPackets; i++)
                h.Record((ushort)i, _results[i].SendMicros + offset, 1200);
            if (!RtcpPacketView.TryRead(_feedback[r], out var packet, out _) || !TransportFeedbackView.TryRead(packet, out var view))
                continue;
            int count = h.Match(view, _matched);
            e.OnTransportFeedback(_matched.AsSpan(0, count), _results[(r + 1) * ReportPackets - 1].SendMicros + offset + 60_000);
            n += count;
        }
        _matchOffset = offset + Packets / 4 * 33_333L;
        return n + e.TargetBps;
    }
}
