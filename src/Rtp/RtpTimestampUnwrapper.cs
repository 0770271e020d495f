namespace Engine.Rtp;

/// <summary>
/// Extends 32-bit RTP timestamps (RFC 3550 §5.1) to 64 bits: each timestamp is placed within
/// ±2^31 ticks of the highest seen, so B-frames and reordering around a wrap stay on the right cycle.
/// </summary>
public struct RtpTimestampUnwrapper
{
    private long _highest;
    private bool _started;

    public long Unwrap(uint rtpTimestamp)
    {
        if (!_started)
        {
            _started = true;
            _highest = rtpTimestamp;
            return rtpTimestamp;
        }
        long value = _highest + (int)(rtpTimestamp - (uint)_highest);
        if (value > _highest)
            _highest = value;
        return value;
    }
}
