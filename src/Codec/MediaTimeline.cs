namespace Engine.Codec;

/// <summary>
/// Puts every track of one publisher on one output clock in milliseconds. Inside a track, time
/// follows the RTP timestamps (no arrival jitter); across tracks, the senders' RTCP SR wall clock
/// aligns them once known, and arrival time until then. The output is strictly increasing per
/// track, so loss, keyframe waits and SSRC changes never step it back. Sans-IO, one thread.
/// </summary>
public sealed class MediaTimeline
{
    private readonly Track[] _tracks;
    private long _originArrival = long.MinValue;
    private long _ntpToOutput = long.MinValue;

    public MediaTimeline(int trackCount)
    {
        _tracks = new Track[trackCount];
        for (int i = 0; i < trackCount; i++)
            _tracks[i] = new Track();
    }

    /// <summary>The output time in ms (≥ 0) of a frame.</summary>
    public long ToMillis(int track, uint rtpTimestamp, int clockRate, long senderNtpMicros, long arrivalMicros)
    {
        var t = _tracks[track];
        if (_originArrival == long.MinValue)
            _originArrival = arrivalMicros;
        long rtp;
        if (!t.Started || clockRate != t.ClockRate)
        {
            t.Started = true;
            t.ClockRate = clockRate;
            t.LastRtp = rtpTimestamp;
            t.Unwrapped = 0;
            t.BaseRtp = 0;
            t.BaseMicros = Math.Max(arrivalMicros - _originArrival, t.LastMicros);
            rtp = 0;
        }
        else
        {
            // Forward or backward steps of less than 2^31 ticks are real; bigger ones are a wrap.
            t.Unwrapped += (int)(rtpTimestamp - t.LastRtp);
            t.LastRtp = rtpTimestamp;
            rtp = t.Unwrapped;
            // A jump of more than 10 s (new SSRC, sender restart) re-bases on arrival.
            long jump = (rtp - t.BaseRtp) * 1_000_000 / clockRate + t.BaseMicros - (arrivalMicros - _originArrival);
            if (!t.SenderClocked && Math.Abs(jump) > 10_000_000)
            {
                t.BaseRtp = rtp;
                t.BaseMicros = Math.Max(arrivalMicros - _originArrival, t.LastMicros);
            }
        }
        long micros = t.BaseMicros + (rtp - t.BaseRtp) * 1_000_000 / clockRate;
        if (senderNtpMicros >= 0)
        {
            if (_ntpToOutput == long.MinValue)
                _ntpToOutput = micros - senderNtpMicros;
            micros = senderNtpMicros + _ntpToOutput;
            // Follow the sender clock from here: later frames without SR keep its base.
            t.SenderClocked = true;
            t.BaseRtp = rtp;
            t.BaseMicros = micros;
        }
        long ms = Math.Max(0, micros / 1000);
        if (t.LastMillis >= 0 && ms <= t.LastMillis)
            ms = t.LastMillis + 1;
        t.LastMillis = ms;
        t.LastMicros = Math.Max(micros, ms * 1000);
        return ms;
    }

    private sealed class Track
    {
        public bool Started, SenderClocked;
        public int ClockRate;
        public uint LastRtp;
        public long Unwrapped, BaseRtp, BaseMicros, LastMicros;
        public long LastMillis = -1;
    }
}
