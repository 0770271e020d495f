using Engine.Rtp.Receive;

namespace Engine.Codec;

/// <summary>
/// Puts every track of one publisher on one output clock in milliseconds. A track's time is its
/// own RTP timestamps (unwrapped, at its clock rate) from a base its first 2 s of arrivals settle,
/// so arrival jitter and sender reports never bunch or stretch its frames. Sender reports only
/// align tracks (lip sync): a frame's sender NTP time gives the base its track should have,
/// believed within <see cref="LipSyncBoundMicros"/> of the arrival estimate, and the base slides
/// there by at most 1/32 of media time (a 33 ms frame stays 32-35 ms from the last). A timestamp
/// jump that arrival cannot explain re-bases the track on arrival. Sans-IO, one thread, no allocation.
/// </summary>
public sealed class MediaTimeline
{
    /// <summary>A sender clock farther than this from the arrival estimate is not believed.</summary>
    public const long LipSyncBoundMicros = 300_000;
    /// <summary>An RTP step this much bigger than the arrival step (or backward) is a discontinuity.</summary>
    public const long JumpMicros = 1_000_000;
    private const long StrayMicros = 10_000_000; // timestamps that stopped or ran away from arrival
    private const long ReseedMicros = 5_000_000; // no track believed the common offset this long: start it again
    private const long SettleMicros = 2_000_000; // without a sender clock, a track's first 2 s settle on its arrival estimate
    private const int SlewDivisor = 32; // the base moves at most 1/32 of the media time between frames
    private const int OffsetSmoothing = 64, TargetSmoothing = 8;

    private readonly Track[] _tracks;
    private long _originArrival = long.MinValue;
    private long _ntpToArrival = long.MinValue; // arrival minus sender NTP, averaged over believed frames
    private long _lastBelievedArrival;

    public MediaTimeline(int trackCount)
    {
        _tracks = new Track[trackCount];
        for (int i = 0; i < trackCount; i++)
            _tracks[i] = new Track();
    }

    /// <summary>Frames whose sender clock disagreed with arrival.</summary>
    public long SenderClockRejected { get; private set; }
    /// <summary>Timestamp discontinuities re-based on arrival.</summary>
    public long Discontinuities { get; private set; }

    /// <summary>The output time in ms (≥ 0) of a frame; <paramref name="senderNtpMicros"/> is -1 when unknown.</summary>
    public long ToMillis(int track, uint rtpTimestamp, int clockRate, long senderNtpMicros, long arrivalMicros)
    {
        var t = _tracks[track];
        if (_originArrival == long.MinValue)
            _originArrival = arrivalMicros;
        long arrival = arrivalMicros - _originArrival;
        long media, mediaStep = 0;
        if (!t.Started || clockRate != t.ClockRate)
        {
            t.Started = true;
            t.ClockRate = clockRate;
            t.LastRtp = rtpTimestamp;
            t.Ticks = 0;
            media = 0;
            t.Base = Math.Max(arrival, t.LastMicros);
            t.Arrival.Reset(arrival);
            t.HasTarget = false;
            t.SettleUntil = SettleMicros;
        }
        else
        {
            // Forward or backward steps of less than 2^31 ticks are real; bigger ones are a wrap.
            t.Ticks += (int)(rtpTimestamp - t.LastRtp);
            t.LastRtp = rtpTimestamp;
            media = t.Ticks * 1_000_000 / clockRate;
            mediaStep = media - t.LastMedia;
            long arrivalStep = arrival - t.LastArrival;
            long x = arrival - media;
            if (mediaStep < -JumpMicros || mediaStep > arrivalStep + JumpMicros || Math.Abs(x - t.Arrival.Value) > StrayMicros)
            {
                // A sender restart or a timestamp jump: this frame is where arrival says, as far
                // ahead of its arrival as the track was.
                t.Base += x - t.Arrival.Value;
                t.Arrival.Reset(x);
                t.HasTarget = false;
                t.SettleUntil = media + SettleMicros;
                mediaStep = 0;
                Discontinuities++;
            }
            else
                t.Arrival.Add(x, media);
        }
        t.LastMedia = media;
        t.LastArrival = arrival;
        if (senderNtpMicros >= 0)
            OnSenderClock(t, senderNtpMicros - media, arrival);
        if (mediaStep > 0 && (t.HasTarget || media < t.SettleUntil))
        {
            // The first frame's arrival jitter (or a keyframe's pacing) is not the track's delay.
            long target = t.HasTarget ? t.NtpBase + _ntpToArrival : t.Arrival.Value;
            long step = mediaStep / SlewDivisor;
            t.Base += Math.Clamp(target - t.Base, -step, step);
        }
        long micros = t.Base + media;
        long ms = Math.Max(0, micros / 1000);
        if (t.LastMillis >= 0 && ms <= t.LastMillis)
            ms = t.LastMillis + 1;
        t.LastMillis = ms;
        t.LastMicros = Math.Max(micros, ms * 1000);
        return ms;
    }

    /// <param name="ntpBase">The sender NTP time of the track's media time 0.</param>
    private void OnSenderClock(Track t, long ntpBase, long arrival)
    {
        long sample = t.Arrival.Value - ntpBase;
        if (_ntpToArrival == long.MinValue)
            Reseed(sample, arrival);
        else if (Math.Abs(ntpBase + _ntpToArrival - t.Arrival.Value) > LipSyncBoundMicros)
        {
            SenderClockRejected++;
            if (arrival - _lastBelievedArrival <= ReseedMicros)
                return;
            Reseed(sample, arrival);
        }
        else
        {
            _ntpToArrival += (sample - _ntpToArrival) / OffsetSmoothing;
            _lastBelievedArrival = arrival;
        }
        // A sender whose reports disagree by a few ms (Pion) moves the target a little, not in steps.
        t.NtpBase = t.HasTarget ? t.NtpBase + (ntpBase - t.NtpBase) / TargetSmoothing : ntpBase;
        t.HasTarget = true;
    }

    private void Reseed(long sample, long arrival)
    {
        _ntpToArrival = sample;
        _lastBelievedArrival = arrival;
        foreach (var other in _tracks)
            other.HasTarget = false;
    }

    private sealed class Track
    {
        public bool Started, HasTarget;
        public int ClockRate;
        public uint LastRtp;
        public long Ticks, LastMedia, LastArrival;
        public long Base; // output µs of media time 0
        public ArrivalOffset Arrival; // arrival minus media time
        public long NtpBase; // the sender NTP time of media time 0 by the last believed frame
        public long SettleUntil; // media time until which the base follows arrival
        public long LastMicros;
        public long LastMillis = -1;
    }
}
