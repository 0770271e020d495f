using Engine.Rtp.Rtcp;

namespace Engine.Rtp.Receive;

/// <summary>
/// Reception statistics of one incoming SSRC (RFC 3550 §6.4.1, appendix A.3 and A.8): counts,
/// loss, interarrival jitter, and the LSR/DLSR pair for round-trip time at the sender.
/// Fed with unwrapped sequence numbers; allocation-free.
/// </summary>
public sealed class RtpReceiveStatistics
{
    private readonly uint _ssrc;
    private readonly int _clockRate;
    private bool _started;
    private long _baseSeqNo, _highestSeqNo;
    private long _expectedPrior, _receivedPrior;
    private long _lastTransitTicks; // arrival in clock-rate ticks minus RTP timestamp
    private bool _hasTransit;
    private double _jitter;
    private uint _lastSrNtpMiddle;
    private long _lastSrArrivalMicros = -1;

    public RtpReceiveStatistics(uint ssrc, int clockRate)
    {
        if (clockRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(clockRate));
        _ssrc = ssrc;
        _clockRate = clockRate;
    }

    public uint Ssrc => _ssrc;
    public long PacketsReceived { get; private set; }
    public long BytesReceived { get; private set; }
    public long Duplicates { get; private set; }
    /// <summary>Highest unwrapped sequence number, or -1 before the first packet.</summary>
    public long HighestSeqNo => _started ? _highestSeqNo : -1;
    /// <summary>RFC 3550 A.3: expected minus received; counts a duplicate as a negative loss, as the RFC does.</summary>
    public long CumulativeLost => _started ? (_highestSeqNo - _baseSeqNo + 1) - PacketsReceived : 0;
    /// <summary>Interarrival jitter in RTP timestamp units.</summary>
    public uint Jitter => (uint)_jitter;
    public double JitterMillis => _jitter * 1000.0 / _clockRate;

    /// <summary>
    /// One packet that passed SRTP. <paramref name="isRetransmission"/> packets (RTX, or NACK-recovered)
    /// count as received but do not feed the jitter: their arrival time says nothing about the path.
    /// </summary>
    public void OnPacket(long seqNo, uint rtpTimestamp, long arrivalMicros, int payloadBytes, bool isRetransmission = false)
    {
        PacketsReceived++;
        BytesReceived += payloadBytes;
        if (!_started)
        {
            _started = true;
            _baseSeqNo = _highestSeqNo = seqNo;
        }
        else if (seqNo > _highestSeqNo)
        {
            _highestSeqNo = seqNo;
        }
        else if (seqNo < _baseSeqNo)
        {
            _baseSeqNo = seqNo; // reordered before the first packet
        }
        if (isRetransmission)
            return;

        // RFC 3550 A.8: D(i,j) = (Rj - Ri) - (Sj - Si) in timestamp units; J += (|D| - J) / 16.
        long arrivalTicks = arrivalMicros * _clockRate / 1_000_000;
        long transit = arrivalTicks - rtpTimestamp;
        if (_hasTransit)
        {
            // RTP timestamps wrap at 2^32: take the difference modulo 2^32 as signed.
            long d = (int)(uint)(transit - _lastTransitTicks);
            _jitter += (Math.Abs(d) - _jitter) / 16.0;
        }
        _lastTransitTicks = transit;
        _hasTransit = true;
    }

    /// <summary>
    /// A packet counted by <see cref="OnPacket"/> that the reorder buffer found already seen: it
    /// stops counting as received. Senders' RTX probes resend packets that arrived, and counting
    /// each copy drove the cumulative loss negative and the fraction lost to 0 under real loss.
    /// </summary>
    public void OnDuplicate()
    {
        Duplicates++;
        PacketsReceived--;
    }

    /// <summary>A sender report arrived for this SSRC: remember its NTP time for LSR/DLSR (RFC 3550 §6.4.1).</summary>
    public void OnSenderReport(ulong ntpTimestamp, long arrivalMicros)
    {
        _lastSrNtpMiddle = (uint)(ntpTimestamp >> 16);
        _lastSrArrivalMicros = arrivalMicros;
    }

    /// <summary>The report block for an RR/SR now; also starts the next fraction-lost interval (A.3).</summary>
    public ReportBlock CreateReportBlock(long nowMicros)
    {
        long expected = _started ? _highestSeqNo - _baseSeqNo + 1 : 0;
        long expectedInterval = expected - _expectedPrior;
        long receivedInterval = PacketsReceived - _receivedPrior;
        _expectedPrior = expected;
        _receivedPrior = PacketsReceived;
        long lostInterval = expectedInterval - receivedInterval;
        byte fraction = expectedInterval <= 0 || lostInterval <= 0 ? (byte)0 : (byte)Math.Min(255, (lostInterval << 8) / expectedInterval);
        uint dlsr = 0;
        if (_lastSrArrivalMicros >= 0)
            dlsr = (uint)Math.Min(uint.MaxValue, (nowMicros - _lastSrArrivalMicros) * 65536 / 1_000_000);
        return new ReportBlock(_ssrc, fraction, (int)Math.Clamp(CumulativeLost, -0x800000, 0x7fffff), (uint)_highestSeqNo,
            (uint)_jitter, _lastSrArrivalMicros >= 0 ? _lastSrNtpMiddle : 0, dlsr);
    }
}
