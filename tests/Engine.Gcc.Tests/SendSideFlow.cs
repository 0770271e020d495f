using Engine.Rtp;
using Engine.Rtp.Rtcp;
using Engine.Rtp.Send;

namespace Engine.Gcc.Tests;

/// <summary>
/// One media direction across the emulated path: at the sending end an ideal encoder (30 fps frames of
/// exactly target/30 bytes in 1200-byte packets, plus optional 40 kbps audio), the <see cref="Pacer"/>,
/// a <see cref="SendHistory"/> and the <see cref="SendSideEstimator"/>; at the receiving end a
/// <see cref="TransportFeedbackBuilder"/> whose real feedback packets (every 50 ms) come back over the
/// backward link, are parsed and matched as the send path does. Figures are kept per phase.
/// </summary>
public sealed class SendSideFlow
{
    public const int PacketBytes = 1200;
    public const long FrameIntervalMicros = 1_000_000 / 30;
    public const long AudioIntervalMicros = 20_000;
    public const int AudioBytes = 100; // 40 kbps
    public const long FeedbackIntervalMicros = 50_000;

    /// <summary>IP + UDP + SRTCP on a feedback packet, so a congested backward link carries what it would.</summary>
    public const int FeedbackOverheadBytes = 48;

    private readonly TransportFeedbackBuilder _feedback = new(4096);
    private readonly byte[] _feedbackBuffer = new byte[1200];
    private readonly SentPacketResult[] _results = new SentPacketResult[4096];
    private SeqNoUnwrapper _receiveUnwrapper;
    private long _nextFrameMicros, _nextAudioMicros, _nextFeedbackMicros;
    private long _nextHandle, _transportSequence;
    private long _lastTargetBps = -1;
    private long _frameDebtBytes;

    public SendSideFlow(string name, SendSideEstimatorOptions options, LinkEmulator forward, LinkEmulator backward)
    {
        Name = name;
        Estimator = new SendSideEstimator(options);
        Forward = forward;
        Backward = backward;
    }

    public string Name { get; }
    public SendSideEstimator Estimator { get; }
    public Pacer Pacer { get; } = new();
    public SendHistory History { get; } = new(16384);
    public LinkEmulator Forward { get; }
    public LinkEmulator Backward { get; }

    /// <summary>The flow starts sending at this time (a second flow may join later).</summary>
    public long StartMicros { get; init; }

    public bool Audio { get; init; } = true;

    /// <summary>The encoder cannot go above this (an app-limited source); long.MaxValue: it follows the target.</summary>
    public long EncoderMaxBps { get; init; } = long.MaxValue;

    public long MediaPacketsSent { get; private set; }
    public long PaddingPacketsSent { get; private set; }
    public long FeedbackPacketsSent { get; private set; }
    public long FeedbackPacketsLost { get; private set; }

    /// <summary>Per phase: media bytes received (settled part and whole), queuing delays, target sum.</summary>
    public PhaseAccumulator[] Phases { get; private set; } = [];

    /// <summary>Every 100 ms: time, target, capacity of the forward link, media received, max and mean queuing delay.</summary>
    public List<SendSideSample> Series { get; } = [];

    private long _sampleBytes;
    private double _sampleMaxDelay, _sampleDelaySum;
    private int _sampleDelayCount;

    /// <summary>This flow's own phase boundaries (its forward link's schedule); null: the loop's.</summary>
    public long[]? PhaseStarts { get; init; }

    internal void Prepare(long[] phaseStarts, long durationMicros, long settleMicros)
    {
        phaseStarts = PhaseStarts ?? phaseStarts;
        Phases = new PhaseAccumulator[phaseStarts.Length];
        for (int i = 0; i < phaseStarts.Length; i++)
        {
            long end = i + 1 < phaseStarts.Length ? phaseStarts[i + 1] : durationMicros;
            Phases[i] = new PhaseAccumulator(phaseStarts[i], end, settleMicros);
        }
        _nextFrameMicros = _nextAudioMicros = StartMicros;
        _nextFeedbackMicros = StartMicros + FeedbackIntervalMicros;
    }

    /// <summary>Sender work at <paramref name="now"/>: encode, probe, pace onto the forward link.</summary>
    internal void SendStep(long now, SendSideLoop loop)
    {
        if (now < StartMicros)
            return;
        var e = Estimator;
        if (e.TryTakeProbe(now, out var cluster))
            Pacer.StartProbe(cluster);
        if (e.TargetBps != _lastTargetBps)
        {
            _lastTargetBps = e.TargetBps;
            Pacer.SetTarget(e.TargetBps, now);
        }
        if (Audio && now >= _nextAudioMicros)
        {
            _nextAudioMicros += AudioIntervalMicros;
            Pacer.TryEnqueue(PacedPacketKind.Audio, AudioBytes, _nextHandle++, now);
        }
        if (now >= _nextFrameMicros)
        {
            _nextFrameMicros += FrameIntervalMicros;
            long videoBps = Math.Min(EncoderMaxBps, e.TargetBps - (Audio ? AudioBytes * 8 * 1_000_000 / AudioIntervalMicros : 0));
            // The fraction of a byte per frame is carried, so the encoder's mean is the target exactly.
            long frameBits = Math.Max(0, videoBps) * FrameIntervalMicros / 1_000_000 + _frameDebtBytes;
            long frameBytes = frameBits / 8;
            _frameDebtBytes = frameBits % 8;
            while (frameBytes > 0)
            {
                int size = (int)Math.Min(PacketBytes, frameBytes);
                frameBytes -= size;
                Pacer.TryEnqueue(PacedPacketKind.Video, size, _nextHandle++, now);
            }
        }
        for (int guard = 0; guard < 100_000 && Pacer.NextWakeMicros(now) <= now && Pacer.TryPoll(now, out var p); guard++)
        {
            if (p.Expired)
                continue; // counted by the pacer
            long seq = _transportSequence++;
            History.Record((ushort)seq, now, p.Size);
            bool padding = p.Kind == PacedPacketKind.Padding;
            e.OnPacketSent(seq, now, p.Size, p.ProbeClusterId, padding);
            if (padding) PaddingPacketsSent++; else MediaPacketsSent++;
            var outcome = Forward.Send(now, p.Size);
            if (outcome.Delivered)
                loop.Deliver(new SendSideDelivery(this, false, outcome.ArrivalMicros, now, seq, p.Size, padding, null));
            else if (!padding)
                PhaseAt(now)?.AddLoss();
        }
    }

    /// <summary>Receiver work at <paramref name="now"/>: feedback every 50 ms onto the backward link.</summary>
    internal void FeedbackStep(long now, SendSideLoop loop)
    {
        if (now < _nextFeedbackMicros)
            return;
        _nextFeedbackMicros += FeedbackIntervalMicros;
        while (_feedback.PendingCount > 0)
        {
            int length = _feedback.Write(_feedbackBuffer, 1, 2);
            if (length == 0)
                break;
            FeedbackPacketsSent++;
            var outcome = Backward.Send(now, length + FeedbackOverheadBytes);
            if (outcome.Delivered)
                loop.Deliver(new SendSideDelivery(this, true, outcome.ArrivalMicros, now, 0, length, false, _feedbackBuffer.AsSpan(0, length).ToArray()));
            else
                FeedbackPacketsLost++;
        }
    }

    internal void OnDelivered(in SendSideDelivery d, long now)
    {
        if (d.IsFeedback)
        {
            if (!RtcpPacketView.TryRead(d.Feedback, out var packet, out _) || !TransportFeedbackView.TryRead(packet, out var view))
                throw new InvalidOperationException("the builder wrote feedback the parser refuses");
            int n = History.Match(view, _results);
            long latestSend = long.MinValue;
            for (int i = 0; i < n; i++)
                latestSend = Math.Max(latestSend, _results[i].SendMicros);
            if (n > 0)
                Estimator.RttMicros = now - latestSend; // includes the wait for the report, as libwebrtc's feedback RTT does
            Estimator.OnTransportFeedback(_results.AsSpan(0, n), now);
            return;
        }
        _feedback.AddReceivedPacket(_receiveUnwrapper.Unwrap((ushort)d.Sequence), d.ArrivalMicros);
        if (d.Padding)
            return;
        double delayMs = (d.ArrivalMicros - d.SendMicros - Forward.OneWayDelayMicros) / 1000.0;
        PhaseAt(d.ArrivalMicros)?.AddPacket(d.ArrivalMicros, d.Size, delayMs);
        _sampleBytes += d.Size;
        _sampleMaxDelay = Math.Max(_sampleMaxDelay, delayMs);
        _sampleDelaySum += delayMs;
        _sampleDelayCount++;
    }

    internal void Sample(long now, long sampleMicros)
    {
        PhaseAt(now)?.AddTarget(now, Estimator.TargetBps);
        if ((now + SendSideLoop.StepMicros) % sampleMicros != 0)
            return;
        Series.Add(new SendSideSample((now + SendSideLoop.StepMicros) / 1e6, now >= StartMicros ? Estimator.TargetBps : 0, Forward.CapacityAt(now),
            _sampleBytes * 8 * 1e6 / sampleMicros, _sampleMaxDelay, _sampleDelayCount == 0 ? 0 : _sampleDelaySum / _sampleDelayCount));
        _sampleBytes = 0;
        _sampleMaxDelay = _sampleDelaySum = 0;
        _sampleDelayCount = 0;
    }

    private PhaseAccumulator? PhaseAt(long micros)
    {
        for (int i = Phases.Length - 1; i >= 0; i--)
            if (micros >= Phases[i].StartMicros)
                return micros < Phases[i].EndMicros ? Phases[i] : null;
        return null;
    }
}
