namespace Engine.Rtp.Receive;

/// <summary>
/// Maps one SSRC's RTP timestamps to the sender's wall clock (NTP) through its latest sender report
/// (RFC 3550 §6.4.1: an SR pairs an NTP time with the RTP timestamp of the same instant). Every
/// stream from one browser shares that wall clock, which is what puts audio and video in sync.
/// </summary>
public sealed class SenderClock
{
    private readonly int _clockRate;
    private long _srNtpMicros;
    private uint _srRtpTimestamp;

    public SenderClock(int clockRate)
    {
        if (clockRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(clockRate));
        _clockRate = clockRate;
    }

    public bool HasMapping { get; private set; }

    /// <summary>NTP time (RFC 5905 64-bit: seconds since 1900 and a binary fraction) in microseconds.</summary>
    public static long NtpToMicros(ulong ntp) => (long)(ntp >> 32) * 1_000_000 + (long)(((ntp & 0xFFFFFFFF) * 1_000_000) >> 32);

    public static ulong MicrosToNtp(long micros) =>
        ((ulong)(micros / 1_000_000) << 32) | (((ulong)(micros % 1_000_000) << 32) / 1_000_000);

    public void OnSenderReport(ulong ntpTimestamp, uint rtpTimestamp)
    {
        _srNtpMicros = NtpToMicros(ntpTimestamp);
        _srRtpTimestamp = rtpTimestamp;
        HasMapping = true;
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
        long ticks = (int)(rtpTimestamp - _srRtpTimestamp);
        ntpMicros = _srNtpMicros + ticks * 1_000_000 / _clockRate;
        return true;
    }
}
