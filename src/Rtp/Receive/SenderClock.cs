namespace Engine.Rtp.Receive;

/// <summary>
/// Maps one SSRC's RTP timestamps to the sender's wall clock (NTP) through a sender report (RFC
/// 3550 §6.4.1: an SR pairs an NTP time with the RTP timestamp of the same instant), for lip sync
/// only. A report is believed only when arrival agrees with it: the media of its RTP timestamp
/// must be due about when the report itself arrived (GStreamer webrtcbin 1.22 under max-bundle
/// reports RTP timestamps running ahead by about 1 s per s), and its NTP-to-arrival offset must
/// match the recent reports' (a garbage NTP). A rejected report leaves the previous mapping.
/// </summary>
public sealed class SenderClock
{
    /// <summary>How far a report may disagree with arrival: encoder latency, pacing and jitter stay well inside.</summary>
    public const long BoundMicros = 300_000;
    /// <summary>An RTP step this much bigger than the arrival step (or backward) is a discontinuity (a sender restart).</summary>
    public const long JumpMicros = 1_000_000;
    private const long StrayMicros = 10_000_000; // timestamps that stopped or ran away from arrival

    private readonly int _clockRate;
    private long _srNtpMicros;
    private uint _srRtpTimestamp;
    private bool _started;
    private uint _lastRtp;
    private long _unwrapped, _lastArrival;
    private ArrivalOffset _arrival; // over packets
    private long _offset0, _offset1, _offset2; // NTP-to-arrival offsets of the last reports that passed the RTP check
    private int _offsets;

    public SenderClock(int clockRate)
    {
        if (clockRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(clockRate));
        _clockRate = clockRate;
    }

    public bool HasMapping { get; private set; }
    public long ReportsAccepted { get; private set; }
    /// <summary>Reports that arrived before media or disagreed with arrival.</summary>
    public long ReportsRejected { get; private set; }
    /// <summary>Timestamp discontinuities seen (each drops the mapping until the next good report).</summary>
    public long Discontinuities { get; private set; }

    /// <summary>NTP time (RFC 5905 64-bit: seconds since 1900 and a binary fraction) in microseconds.</summary>
    public static long NtpToMicros(ulong ntp) => (long)(ntp >> 32) * 1_000_000 + (long)(((ntp & 0xFFFFFFFF) * 1_000_000) >> 32);

    public static ulong MicrosToNtp(long micros) =>
        ((ulong)(micros / 1_000_000) << 32) | (((ulong)(micros % 1_000_000) << 32) / 1_000_000);

    /// <summary>Every received packet (before reordering): the arrival estimate reports are checked against.</summary>
    public void OnPacket(uint rtpTimestamp, long arrivalMicros)
    {
        if (!_started)
        {
            _started = true;
            _lastRtp = rtpTimestamp;
            _lastArrival = arrivalMicros;
            _arrival.Reset(arrivalMicros);
            return;
        }
        int step = (int)(rtpTimestamp - _lastRtp);
        _unwrapped += step;
        _lastRtp = rtpTimestamp;
        long mediaStep = TicksToMicros(step), arrivalStep = arrivalMicros - _lastArrival;
        _lastArrival = arrivalMicros;
        long media = TicksToMicros(_unwrapped);
        long x = arrivalMicros - media;
        // A network stall moves arrival, not timestamps: only a step arrival cannot explain is a jump.
        if (mediaStep < -JumpMicros || mediaStep > arrivalStep + JumpMicros || Math.Abs(x - _arrival.Value) > StrayMicros)
        {
            _arrival.Reset(x);
            Discontinuities++;
            HasMapping = false; // the old report describes other timestamps now
            return;
        }
        _arrival.Add(x, media);
    }

    /// <summary>Returns whether the report was believed.</summary>
    public bool OnSenderReport(ulong ntpTimestamp, uint rtpTimestamp, long arrivalMicros)
    {
        if (!_started)
        {
            ReportsRejected++;
            return false;
        }
        long ntp = NtpToMicros(ntpTimestamp);
        // The RTP check: when is the media of this timestamp due, against when the report came.
        long mediaDue = _arrival.Value + TicksToMicros(_unwrapped + (int)(rtpTimestamp - _lastRtp));
        if (Math.Abs(mediaDue - arrivalMicros) > BoundMicros)
        {
            ReportsRejected++;
            return false;
        }
        // The NTP check: the median of the last three offsets (this one included) outvotes one
        // garbage NTP, and follows a sender whose clock stepped after two reports.
        long offset = arrivalMicros - ntp;
        _offset2 = _offset1;
        _offset1 = _offset0;
        _offset0 = offset;
        _offsets = Math.Min(_offsets + 1, 3);
        long reference = _offsets switch
        {
            1 => offset,
            2 => _offset1,
            _ => Math.Max(Math.Min(_offset0, _offset1), Math.Min(Math.Max(_offset0, _offset1), _offset2)),
        };
        if (Math.Abs(offset - reference) > BoundMicros)
        {
            ReportsRejected++;
            return false;
        }
        _srNtpMicros = ntp;
        _srRtpTimestamp = rtpTimestamp;
        HasMapping = true;
        ReportsAccepted++;
        return true;
    }

    /// <summary>
    /// The sender's wall-clock time of <paramref name="rtpTimestamp"/>. Timestamps within ±2^31
    /// ticks of the report's (6.6 hours at 90 kHz) map correctly across the 32-bit wrap.
    /// </summary>
    public bool TryMapToNtpMicros(uint rtpTimestamp, out long ntpMicros)
    {
        if (!HasMapping)
        {
            ntpMicros = 0;
            return false;
        }
        ntpMicros = _srNtpMicros + TicksToMicros((int)(rtpTimestamp - _srRtpTimestamp));
        return true;
    }

    private long TicksToMicros(long ticks) => ticks * 1_000_000 / _clockRate;
}
