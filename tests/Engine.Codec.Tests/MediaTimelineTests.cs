using Engine.Rtp.Receive;
using Xunit;

namespace Engine.Codec.Tests;

public sealed class MediaTimelineTests
{
    [Fact]
    public void FollowsRtpTimestamps_NotArrivalJitter_AcrossTheWrap()
    {
        var t = new MediaTimeline(1);
        uint ts = uint.MaxValue - 3000;
        long first = t.ToMillis(0, ts, 90000, -1, 1_000_000);
        Assert.Equal(0, first);
        // 33 ms steps across the 32-bit wrap, arrival jittering by +-20 ms: the base settles on the
        // average arrival by at most 1/32 of each step.
        long last = first;
        for (int i = 1; i <= 10; i++)
        {
            long ms = t.ToMillis(0, unchecked(ts + (uint)(i * 3000)), 90000, -1, 1_000_000 + i * 33_333 + (i % 2 == 0 ? 20_000 : -20_000));
            Assert.InRange(ms - last, 32, 35);
            Assert.InRange(ms, i * 100 / 3 - 10, i * 100 / 3 + 10);
            last = ms;
        }
    }

    [Fact]
    public void NeverStepsBack_EvenWhenTheSenderClockDoes()
    {
        var t = new MediaTimeline(1);
        long last = -1;
        long[] ntps = [-1, -1, 5_000_000, 4_000_000, 4_100_000, 6_000_000];
        for (int i = 0; i < ntps.Length; i++)
        {
            long ms = t.ToMillis(0, (uint)(i * 3000), 90000, ntps[i], i * 33_000);
            Assert.True(ms > last, $"frame {i}: {ms} after {last}");
            last = ms;
        }
    }

    [Fact]
    public void NewSsrcJump_RebasesOnArrival()
    {
        var t = new MediaTimeline(1);
        t.ToMillis(0, 1000, 90000, -1, 0);
        long before = t.ToMillis(0, 4000, 90000, -1, 33_000);
        // A new SSRC starts at a random timestamp: hours away in RTP time, 33 ms later in real time.
        long after = t.ToMillis(0, 1_500_000_000, 90000, -1, 66_000);
        Assert.InRange(after - before, 1, 100);
        Assert.Equal(1, t.Discontinuities);
    }

    // The scenarios below run a publisher on a fake clock: audio (Opus, 20 ms at 48 kHz) and video
    // (30 fps at 90 kHz) captured by one sender, sent through one network with jitter, sender
    // reports every second per track, through SenderClock (as RtpReceiveStream uses it) into the
    // timeline. Video reaches the timeline in order (the reorder buffer), audio in arrival order.

    [Fact]
    public void HonestReports_AlignVideoThatArrivesLater()
    {
        // Video is encoded 80 ms after capture: arrival alone would put it 80 ms late.
        var r = new Sim { VideoLatencyMicros = 80_000 }.Run();
        r.AssertTracksClean();
        r.AssertLipSync(40);
        Assert.True(r.ReportsAccepted > 15, $"{r.ReportsAccepted} reports accepted");
        Assert.Equal(0, r.ReportsRejected);
        // Without reports the same recording is 80 ms out of sync: the reports did it.
        var noSr = new Sim { VideoLatencyMicros = 80_000, SendReports = false }.Run();
        Assert.InRange(noSr.AvOffsetMillis(), 70, 90);
    }

    [Fact]
    public void DifferentStartOffsets_AndJitter_StayInSync()
    {
        // Video starts 700 ms after audio (waiting for its first keyframe), audio 300 ms after its SR clock starts.
        var r = new Sim { AudioStartMicros = 300_000, VideoStartMicros = 1_000_000, VideoLatencyMicros = 60_000, JitterMicros = 20_000, Seed = 7 }.Run();
        r.AssertTracksClean();
        r.AssertLipSync(40);
    }

    [Fact]
    public void RtpClock0Point1PercentFast_AndSenderNtpDrifting_KeepDurationAndSync()
    {
        var r = new Sim
        {
            DurationMicros = 60_000_000, RtpPpm = 1000, NtpPpm = -500, VideoLatencyMicros = 50_000, JitterMicros = 20_000, Seed = 3,
        }.Run();
        r.AssertTracksClean();
        r.AssertLipSync(40);
        Assert.Equal(0, r.ReportsRejected);
    }

    [Fact]
    public void WebrtcbinReports_RunningAhead_AreRejected_RecordingKeepsRealTime()
    {
        // GStreamer webrtcbin 1.22 under max-bundle: each SR's RTP timestamp 0.96 s ahead per second elapsed.
        var r = new Sim { LieRatio = 0.96, JitterMicros = 20_000, Seed = 11 }.Run();
        r.AssertTracksClean();
        r.AssertLipSync(40); // same latency both ways: arrival alignment holds
        Assert.Equal(0, r.ReportsAccepted);
        Assert.True(r.ReportsRejected >= 18, $"{r.ReportsRejected} rejected");
    }

    [Fact]
    public void WebrtcbinReports_BelievedUpstream_AreRejectedByTheTimelineToo()
    {
        // The old rule (every SR re-anchors): the timeline alone must still keep real time and spacing.
        var r = new Sim { LieRatio = 0.96, TrustEveryReport = true, JitterMicros = 20_000, Seed = 5 }.Run();
        r.AssertTracksClean();
        r.AssertLipSync(40);
        Assert.True(r.Timeline.SenderClockRejected > 100, $"{r.Timeline.SenderClockRejected} frames rejected");
    }

    [Fact]
    public void PionReports_SlightlyOff_DoNotWobbleTheSpacing()
    {
        // Each SR's RTP timestamp is off by up to 3 ms: steps stay 32-35 ms (a re-anchor per SR made 31-36).
        var r = new Sim { SrRtpErrorMicros = 3_000, Seed = 2 }.Run();
        r.AssertTracksClean(spacingToleranceMillis: 1.7);
        r.AssertLipSync(40);
    }

    [Fact]
    public void GarbageNtpInOneReport_IsIgnored()
    {
        foreach (bool trustAll in new[] { false, true })
        {
            var r = new Sim { VideoLatencyMicros = 80_000, GarbageNtpReport = 4, TrustEveryReport = trustAll, Seed = 9 }.Run();
            r.AssertTracksClean();
            r.AssertLipSync(40);
            if (!trustAll)
                Assert.Equal(1, r.ReportsRejected);
        }
    }

    [Fact]
    public void RtpTimestampsWrapping_DuringTheRecording()
    {
        // Video wraps 3 s in, audio 6 s in.
        var r = new Sim { VideoRtpBase = uint.MaxValue - 3 * 90_000, AudioRtpBase = uint.MaxValue - 6 * 48_000, VideoLatencyMicros = 50_000, Seed = 4 }.Run();
        r.AssertTracksClean();
        r.AssertLipSync(40);
        Assert.Equal(0, r.Timeline.Discontinuities);
    }

    [Fact]
    public void AudioReordered_StaysMonotonic()
    {
        // ±30 ms jitter on 20 ms audio packets: many arrive out of order (no reorder buffer for Opus).
        var r = new Sim { JitterMicros = 30_000, Seed = 13 }.Run();
        Assert.True(r.AudioReordered > 50, $"{r.AudioReordered} reordered");
        r.AssertTracksClean();
        r.AssertLipSync(40);
    }

    [Fact]
    public void SenderRestart_RebasesOnArrival_NoGapNoBunching()
    {
        foreach (long jump in new[] { 1_234_567_890L, -270_000L, 900_000L * 60 })
        {
            var r = new Sim { VideoRtpJumpAtMicros = 5_000_000, VideoRtpJumpTicks = jump, JitterMicros = 10_000, Seed = 6 }.Run();
            r.AssertTracksClean(jumpFrames: 1);
            Assert.Equal(1, r.Timeline.Discontinuities);
        }
    }

    [Fact]
    public void ANetworkStall_KeepsTheTimestamps()
    {
        // 1.5 s of both tracks held up in the network, then delivered in a burst: no re-base, no bunching.
        var r = new Sim { StallFromMicros = 4_000_000, StallMicros = 1_500_000, VideoLatencyMicros = 50_000, JitterMicros = 10_000, Seed = 8 }.Run();
        r.AssertTracksClean();
        r.AssertLipSync(40);
        Assert.Equal(0, r.Timeline.Discontinuities);
    }

    [Fact]
    public void TheTimeline_AllocatesNothingPerFrame()
    {
        var t = new MediaTimeline(2);
        long sum = 0;
        void Run(int from, int count)
        {
            for (int i = from; i < from + count; i++)
            {
                long now = i * 20_000L;
                long ntp = i > 50 ? 3_900_000_000_000_000 + now : -1;
                sum += t.ToMillis(1, (uint)(i * 960), 48000, ntp, now);
                if (i % 3 == 0)
                    sum += t.ToMillis(0, (uint)(i * 1800), 90000, ntp, now + 1000);
            }
        }
        Run(0, 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(100, 10_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.NotEqual(0, sum);
    }

    private sealed class Sim
    {
        private const int Video = 0, Audio = 1;
        private const long ArrivalEpoch = 777_000_000; // the receiver's clock at capture time 0
        private const long NtpEpoch = 3_973_017_600L * 1_000_000; // the sender's NTP at capture time 0

        public long DurationMicros = 10_000_000;
        public long AudioStartMicros, VideoStartMicros;
        public long NetworkDelayMicros = 30_000, VideoLatencyMicros, AudioLatencyMicros = 5_000;
        public long JitterMicros;
        public long StallFromMicros = long.MaxValue, StallMicros; // what is sent in this span arrives at its end
        public int RtpPpm, NtpPpm;
        public double LieRatio;
        public long SrRtpErrorMicros;
        public int GarbageNtpReport = -1; // the video SR with this index has a garbage NTP
        public bool SendReports = true, TrustEveryReport;
        public uint VideoRtpBase = 1_234_567, AudioRtpBase = 3_000_000_000;
        public long VideoRtpJumpAtMicros = long.MaxValue, VideoRtpJumpTicks;
        public int Seed = 1;

        public Result Run()
        {
            var rng = new Random(Seed);
            var events = new List<Event>();
            long Jitter() => JitterMicros == 0 ? 0 : rng.NextInt64(-JitterMicros, JitterMicros + 1);
            // A queue: what was held leaves in order within 1.5 ms, and nothing sent later overtakes it.
            long Stall(long sent, long arrival) =>
                sent >= StallFromMicros ? Math.Max(arrival, ArrivalEpoch + StallFromMicros + StallMicros + NetworkDelayMicros + (Math.Min(sent, StallFromMicros + StallMicros) - StallFromMicros) / 1000) : arrival;
            uint Rtp(int track, long capture)
            {
                long start = track == Video ? VideoStartMicros : AudioStartMicros;
                int rate = track == Video ? 90000 : 48000;
                long ticks = (long)Math.Round((capture - start) * (1 + RtpPpm / 1e6) * rate / 1e6);
                if (track == Video && capture >= VideoRtpJumpAtMicros)
                    ticks += VideoRtpJumpTicks;
                return unchecked((track == Video ? VideoRtpBase : AudioRtpBase) + (uint)ticks);
            }
            long lastVideoArrival = 0;
            for (long k = 0; ; k++)
            {
                long capture = VideoStartMicros + k * 100_000 / 3;
                if (capture >= DurationMicros)
                    break;
                long arrival = Math.Max(lastVideoArrival, Stall(capture + VideoLatencyMicros, ArrivalEpoch + capture + VideoLatencyMicros + NetworkDelayMicros + Jitter()));
                lastVideoArrival = arrival;
                events.Add(new Event(arrival, Video, false, k, capture, Rtp(Video, capture), 0));
            }
            for (long k = 0; ; k++)
            {
                long capture = AudioStartMicros + k * 20_000;
                if (capture >= DurationMicros)
                    break;
                events.Add(new Event(Stall(capture + AudioLatencyMicros, ArrivalEpoch + capture + AudioLatencyMicros + NetworkDelayMicros + Jitter()), Audio, false, k, capture, Rtp(Audio, capture), 0));
            }
            if (SendReports)
            {
                for (int track = 0; track < 2; track++)
                {
                    int index = 0;
                    int rate = track == Video ? 90000 : 48000;
                    for (long at = (track == Video ? VideoStartMicros : AudioStartMicros) + 1_000_000 + track * 400_000; at < DurationMicros; at += 1_000_000, index++)
                    {
                        long ntp = NtpEpoch + at + at * NtpPpm / 1_000_000;
                        if (track == Video && index == GarbageNtpReport)
                            ntp += 7 * 3_600_000_000L + 123_456_789;
                        long error = SrRtpErrorMicros == 0 ? 0 : rng.NextInt64(-SrRtpErrorMicros, SrRtpErrorMicros + 1);
                        uint rtp = unchecked(Rtp(track, at) + (uint)(long)((at * LieRatio + error) * rate / 1e6));
                        events.Add(new Event(Stall(at, ArrivalEpoch + at + NetworkDelayMicros + Jitter()), track, true, index, at, rtp, ntp));
                    }
                }
            }
            events.Sort((a, b) => a.Arrival != b.Arrival ? a.Arrival.CompareTo(b.Arrival) : a.Index.CompareTo(b.Index));

            var result = new Result(this, new MediaTimeline(2));
            var clocks = new[] { new SenderClock(90000), new SenderClock(48000) };
            var naive = new (bool Has, long Ntp, uint Rtp)[2];
            long lastAudioIndex = -1;
            foreach (var e in events)
            {
                var clock = clocks[e.Track];
                if (e.IsReport)
                {
                    clock.OnSenderReport(SenderClock.MicrosToNtp(e.Ntp), e.Rtp, e.Arrival);
                    naive[e.Track] = (true, e.Ntp, e.Rtp);
                    continue;
                }
                int rate = e.Track == Video ? 90000 : 48000;
                clock.OnPacket(e.Rtp, e.Arrival);
                long ntp;
                if (TrustEveryReport)
                    ntp = naive[e.Track].Has ? naive[e.Track].Ntp + (int)(e.Rtp - naive[e.Track].Rtp) * 1_000_000L / rate : -1;
                else
                    ntp = clock.TryMapToNtpMicros(e.Rtp, out long mapped) ? mapped : -1;
                long ms = result.Timeline.ToMillis(e.Track, e.Rtp, rate, ntp, e.Arrival);
                bool late = e.Track == Audio && e.Index < lastAudioIndex;
                result.Out[e.Track].Add((e.Index, e.Capture, ms, late));
                if (late)
                    result.AudioReordered++;
                if (e.Track == Audio)
                    lastAudioIndex = Math.Max(lastAudioIndex, e.Index);
            }
            result.ReportsAccepted = clocks[0].ReportsAccepted + clocks[1].ReportsAccepted;
            result.ReportsRejected = clocks[0].ReportsRejected + clocks[1].ReportsRejected;
            return result;
        }

        private readonly record struct Event(long Arrival, int Track, bool IsReport, long Index, long Capture, uint Rtp, long Ntp);

        public sealed class Result(Sim sim, MediaTimeline timeline)
        {
            public readonly MediaTimeline Timeline = timeline;
            public readonly List<(long Index, long Capture, long Ms, bool Late)>[] Out = [new(), new()];
            public long ReportsAccepted, ReportsRejected, AudioReordered;

            /// <summary>
            /// Per track: strictly increasing; consecutive frames (in order) as far apart as the
            /// source sent them (never bunched); duration within 2% of real time.
            /// </summary>
            public void AssertTracksClean(double spacingToleranceMillis = 2.5, int jumpFrames = 0)
            {
                for (int track = 0; track < 2; track++)
                {
                    var o = Out[track];
                    Assert.True(o.Count > 100, $"track {track}: {o.Count} frames");
                    double period = track == Video ? 100.0 / 3 : 20;
                    int off = 0;
                    long newest = o[0].Index;
                    for (int i = 1; i < o.Count; i++)
                    {
                        long step = o[i].Ms - o[i - 1].Ms;
                        Assert.True(step > 0, $"track {track} frame {o[i].Index}: {o[i].Ms} after {o[i - 1].Ms}");
                        bool inOrder = o[i].Index == o[i - 1].Index + 1 && o[i - 1].Index == newest;
                        newest = Math.Max(newest, o[i].Index);
                        if (!inOrder)
                            continue; // reordered audio: a late frame can only follow the newest, 1 ms on
                        // Whole ms as FLV: a 33.3 ms source steps 33 or 34.
                        double expected = (o[i].Capture - o[i - 1].Capture) / 1000.0;
                        if (Math.Abs(step - expected) > spacingToleranceMillis)
                        {
                            Assert.True(step > 2, $"track {track} frame {o[i].Index}: bunched, {step} ms after the previous");
                            Assert.True(step < 3 * period, $"track {track} frame {o[i].Index}: a gap of {step} ms");
                            off++;
                        }
                    }
                    Assert.True(off <= jumpFrames, $"track {track}: {off} frames spaced unlike the source (step {SpacingRange(track)})");
                    double real = (o[^1].Capture - o[0].Capture) / 1000.0;
                    double recorded = o[^1].Ms - o[0].Ms;
                    Assert.InRange(recorded / real, 0.98, 1.02);
                }
            }

            public string SpacingRange(int track)
            {
                var o = Out[track];
                var steps = Enumerable.Range(1, o.Count - 1).Where(i => o[i].Index == o[i - 1].Index + 1).Select(i => o[i].Ms - o[i - 1].Ms).ToList();
                return $"{steps.Min()}..{steps.Max()} ms";
            }

            /// <summary>Video minus audio output time of one capture instant, averaged over the last 3 s (after the alignment settled).</summary>
            public double AvOffsetMillis() => Lead(Video).Average() - Lead(Audio).Average();

            private IEnumerable<double> Lead(int track)
            {
                long from = sim.DurationMicros - 3_000_000;
                // A late audio frame can only go 1 ms after the newest: it is not where it belongs.
                return Out[track].Where(f => f.Capture >= from && !f.Late).Select(f => f.Ms - f.Capture / 1000.0);
            }

            /// <summary>Every frame of the last 3 s (but late audio) within the bound of the other track's instant.</summary>
            public void AssertLipSync(double boundMillis)
            {
                double mean = AvOffsetMillis();
                Assert.True(Math.Abs(mean) <= boundMillis, $"A/V offset {mean:F1} ms");
                double audio = Lead(Audio).Average(), video = Lead(Video).Average();
                foreach (double v in Lead(Video))
                    Assert.True(Math.Abs(v - audio) <= boundMillis, $"a video frame {v - audio:F1} ms off audio");
                foreach (double a in Lead(Audio))
                    Assert.True(Math.Abs(a - video) <= boundMillis, $"an audio frame {a - video:F1} ms off video");
            }
        }
    }
}
