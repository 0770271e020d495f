using System.Buffers.Binary;
using Engine.Gcc;
using Engine.Host.Peers;
using Engine.Host.Transport;
using Engine.Rtp.Media;
using Engine.Rtp.Rtcp;

namespace Engine.Host.Tests.Peers;

/// <summary>
/// Issue 16: the player's one congestion-controlled pacer on the real send path (a <see cref="Peer"/> with a
/// send estimator and transport-cc), two ends on the fake clock: probes leave as RTX padding (or media-SSRC
/// padding without RTX) and come back in the other end's transport-cc; audio before video; resends before new
/// video; the queue's time bound drops and counts; video pauses under 80 kbps and resumes with a keyframe request.
/// </summary>
public class PeerPacerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const long FrameMicros = 33_333;

    private static byte[] FillerFrame(int bytes)
    {
        var f = new byte[bytes];
        f[3] = 1;
        f[4] = 0x65; // IDR slice: every frame stands alone, so the viewer delivers each one that arrives whole
        f.AsSpan(5).Fill(0xAB);
        return f;
    }

    private static readonly byte[] Opus = PeerTestData.OpusFrame(new Random(1));
    private static readonly byte[][] Video = PeerTestData.AccessUnits("baseline-320x240.h264").Select(PeerTestData.AnnexB).ToArray();

    private static uint SsrcOf(ReadOnlySpan<byte> datagram) => BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]); // SRTP leaves it clear

    /// <summary>The SSRCs of the RTP datagrams the server lets go now, in order (control skipped); all go on the link.</summary>
    private static List<uint> Poll(PeerPair pair, long nowMicros)
    {
        var buffer = new byte[1500];
        var ssrcs = new List<uint>();
        while (pair.Server.TryPollTransmit(buffer, out int n, out var to))
        {
            if (DatagramDemux.Classify(buffer.AsSpan(0, n)) == DatagramKind.Rtp)
                ssrcs.Add(SsrcOf(buffer));
            pair.Link.Send(PeerPair.ServerAddress, to, buffer.AsSpan(0, n), nowMicros);
        }
        return ssrcs;
    }

    [Fact]
    public void Probes_LeaveAsRtxPadding_AndTheReceiversTransportCcCountsThem()
    {
        using var pair = new PeerPair(91, serverSendEstimator: SendSideEstimatorOptions.Default);
        pair.Link.DelayMicros = 20_000;
        pair.Connect();
        var server = pair.Server;
        Assert.NotNull(server.Pacer);
        var frame = FillerFrame(1500); // ~360 kbps: too little to fill a probe, so padding fills it
        uint ts = 0;
        long feedback = 0;
        pair.Run(pair.Now + 3_000_000, now => server.WriteFrame(0, frame, ts += 3000, now), FrameMicros);
        pair.Run(pair.Now + 300_000); // what is in flight arrives, its feedback comes back
        feedback = pair.ServerEvents.Where(e => e.Kind == PeerEventKind.TransportFeedback).Sum(e => (long)e.FeedbackCount);

        var video = server.GetSendStream(0);
        output.WriteLine($"probes {server.ProbesSent}, padding {server.ProbePaddingSent} ({video.PaddingOctetsSent} B), measured {server.SendEstimator!.ProbesMeasured}, " +
            $"failed {server.SendEstimator.ProbesFailed}, last {server.SendEstimator.LastProbeResultBps}, target {server.TargetBps}; recorded {server.SendHistory.Recorded}, feedback {feedback}");
        Assert.True(server.ProbesSent >= 2, $"{server.ProbesSent} probes");
        Assert.True(server.ProbePaddingSent > 0, "no probe padding");
        Assert.Equal(server.ProbePaddingSent, video.PaddingPacketsSent);
        // Padding went on the RTX SSRC: the viewer discarded each as RTX padding, the media stream never saw one.
        Assert.Equal(server.ProbePaddingSent, pair.Client.Counters.RtxPadding);
        Assert.Equal(video.PacketsSent, pair.Client.GetReceiveStream(0).Statistics.PacketsReceived);
        Assert.Equal(0, pair.Client.GetReceiveStream(0).Statistics.CumulativeLost);
        // Every packet that left, padding included, came back in the viewer's transport-cc, and the probes were measured from it.
        Assert.Equal(0, server.SendHistory.UnknownInFeedback);
        Assert.True(feedback >= server.SendHistory.Recorded - 60, $"{feedback} feedback results for {server.SendHistory.Recorded} packets");
        Assert.True(server.SendEstimator.ProbesMeasured >= 1, "no probe was measured");
        Assert.True(server.TargetBps > SendSideEstimatorOptions.Default.StartBps, $"target {server.TargetBps} did not rise on a free link");
    }

    [Fact]
    public void WithoutRtx_ProbePaddingGoesOnTheMediaSsrc_InItsSequence()
    {
        var send = new[]
        {
            new PeerSendTrack { Mid = "0", Ssrc = PeerPair.ServerVideoSsrc, PayloadType = 96, Codec = MediaCodec.H264 },
            new PeerSendTrack { Mid = "1", Ssrc = PeerPair.ServerAudioSsrc, PayloadType = 111, Codec = MediaCodec.Opus, ClockRate = 48_000 },
        };
        using var pair = new PeerPair(92, serverSendEstimator: SendSideEstimatorOptions.Default, serverSend: send);
        pair.Link.DelayMicros = 20_000;
        pair.Connect();
        var server = pair.Server;
        uint ts = 0;
        int frames = 0;
        pair.Run(pair.Now + 3_000_000, now => server.WriteFrame(0, Video[frames++ % Video.Length], ts += 3000, now), FrameMicros);
        pair.Run(pair.Now + 300_000);

        var video = server.GetSendStream(0);
        var rx = pair.Client.GetReceiveStream(0);
        output.WriteLine($"padding {server.ProbePaddingSent}, sent {video.PacketsSent}, received {rx.Statistics.PacketsReceived}, lost {rx.Statistics.CumulativeLost}, " +
            $"nacks {rx.NacksSent}, dropped frames {rx.FramesDropped}, measured {server.SendEstimator!.ProbesMeasured}, evicted {video.EvictedBeforeSend}, resent {video.Retransmitted}");
        Assert.True(server.ProbePaddingSent > 0, "no probe padding");
        Assert.Equal(0, pair.Client.Counters.RtxPadding);
        // The padding took media sequence numbers: the viewer counts it as received, with no gap and nothing lost.
        Assert.Equal(video.PacketsSent, rx.Statistics.PacketsReceived);
        Assert.Equal(0, rx.Statistics.CumulativeLost);
        Assert.Equal(0, rx.FramesDropped);
        Assert.Equal(frames, pair.ClientEvents.Count(e => e.Kind == PeerEventKind.FrameReceived && e.Track == 0));
        Assert.True(server.SendEstimator.ProbesMeasured >= 1, "no probe was measured");
    }

    [Fact]
    public void Audio_LeavesBeforeAQueuedKeyframe()
    {
        using var pair = new PeerPair(93, serverSendEstimator: SendSideEstimatorOptions.Default);
        pair.Connect();
        var server = pair.Server;
        long now = pair.Now;
        Poll(pair, now);
        server.WriteFrame(0, FillerFrame(40_000), 3000, now); // ~35 packets: at 750 kbps, 0.4 s of pacing
        server.WriteFrame(1, Opus, 960, now);
        var first = Poll(pair, now);
        Assert.Equal(PeerPair.ServerAudioSsrc, first[0]);
        Assert.True(first.Count(s => s == PeerPair.ServerVideoSsrc) < 5, $"{first.Count} packets left at once: the frame was not paced");
        Assert.True(server.Pacer!.QueuedPackets > 25);

        // 100 ms on, with video still queued, another audio packet again jumps the queue.
        server.HandleTimeout(now + 100_000);
        server.WriteFrame(1, Opus, 1920, now + 100_000);
        var later = Poll(pair, now + 100_000);
        Assert.Equal(PeerPair.ServerAudioSsrc, later[0]);
        Assert.Contains(PeerPair.ServerVideoSsrc, later);
        Assert.True(server.Pacer.QueuedPackets > 0);

        pair.Run(now + 1_000_000);
        var rx = pair.Client.GetReceiveStream(0);
        output.WriteLine($"video sent {server.GetSendStream(0).PacketsSent}, received {rx.Statistics.PacketsReceived}, lost {rx.Statistics.CumulativeLost}, dropped frames {rx.FramesDropped}, expired {server.Pacer.Expired}");
        Assert.Equal(0, server.Pacer.QueuedPackets);
        Assert.Equal(server.GetSendStream(0).PacketsSent, rx.Statistics.PacketsReceived); // the whole frame arrived, paced
        Assert.Equal(2, pair.ClientEvents.Count(e => e.Kind == PeerEventKind.FrameReceived && e.Track == 1));
    }

    [Fact]
    public void Retransmission_LeavesBeforeQueuedNewVideo()
    {
        using var pair = new PeerPair(94, serverSendEstimator: SendSideEstimatorOptions.Default);
        pair.Connect();
        var server = pair.Server;
        var stream = server.GetSendStream(0);
        ushort lost = stream.NextSequenceNumber;
        server.WriteFrame(0, FillerFrame(1000), 3000, pair.Now);
        pair.Run(pair.Now + 200_000);
        Assert.True(stream.PacketsSent >= 1);

        long now = pair.Now;
        server.HandleTimeout(now);
        server.WriteFrame(0, FillerFrame(40_000), 6000, now);
        Poll(pair, now); // the head of the burst
        Assert.True(server.Pacer!.QueuedPackets > 25);
        Span<byte> rtcp = stackalloc byte[64];
        int n = new GenericNack { SenderSsrc = 0x9999, MediaSsrc = PeerPair.ServerVideoSsrc, LostSequenceNumbers = [lost] }.Write(rtcp);
        Assert.True(stream.HandleRtcp(rtcp[..n], now));
        server.HandleTimeout(now + 20_000);
        var next = Poll(pair, now + 20_000);
        Assert.NotEmpty(next);
        Assert.Equal(PeerPair.ServerVideoRtxSsrc, next[0]); // queued after 30 new packets, out before all of them
        Assert.Equal(1, stream.Retransmitted);
        Assert.True(server.Pacer.QueuedPackets > 20);
    }

    [Fact]
    public void QueueOverItsTimeBound_IsDropped_AndCounted_AudioStillFlows()
    {
        // A ceiling of 200 kbps (pacing at 500 kbps) under a 2 Mbps source: the queue grows to its bound and no further.
        using var pair = new PeerPair(95, serverSendEstimator: new SendSideEstimatorOptions(50_000, 200_000, 200_000));
        pair.Connect();
        var server = pair.Server;
        var frame = FillerFrame(8_000);
        uint ts = 0, ats = 0;
        long maxQueue = 0;
        int audioWritten = 0;
        pair.Run(pair.Now + 6_000_000, now =>
        {
            server.WriteFrame(0, frame, ts += 3000, now);
            audioWritten += server.WriteFrame(1, Opus, ats += 1600, now);
            maxQueue = Math.Max(maxQueue, server.PacerQueueMicros);
        }, FrameMicros);

        output.WriteLine($"dropped {server.PacerDropped} (expired {server.Pacer!.Expired}, full {server.Pacer.DroppedFull}, resends over budget {server.Pacer.RetransmissionsOverBudget}), max queue {maxQueue} us, target {server.TargetBps}");
        Assert.True(server.Pacer.Expired > 100, $"{server.Pacer.Expired} expired");
        Assert.True(server.Pacer.RetransmissionsOverBudget > 0, "the expired video's NACKs ask for more than the resend budget");
        Assert.Equal(server.Pacer.Expired + server.Pacer.DroppedFull + server.Pacer.RetransmissionsOverBudget, server.PacerDropped);
        Assert.InRange(maxQueue, Pacer.MaxQueueMicros / 2, Pacer.MaxQueueMicros + 2 * FrameMicros);
        Assert.False(server.VideoPaused);
        // Audio goes first and never waits: every packet written arrived.
        Assert.True(pair.Client.GetReceiveStream(1).Statistics.PacketsReceived >= audioWritten - 2,
            $"{pair.Client.GetReceiveStream(1).Statistics.PacketsReceived} of {audioWritten} audio packets");
    }

    [Fact]
    public void Video_PausesUnderTheFloor_AudioKeepsGoing_AndResumesWithAKeyframeRequest()
    {
        using var pair = new PeerPair(96, serverSendEstimator: SendSideEstimatorOptions.Default);
        pair.Link.DelayMicros = 20_000;
        pair.Connect();
        var server = pair.Server;
        pair.Link.Bottlenecked = d => d.To == PeerPair.ClientAddress;
        pair.Link.RateBps = 40_000;
        var frame = FillerFrame(1_200); // ~290 kbps of video
        uint ts = 0, ats = 0;
        long pausedAt = -1, resumedAt = -1;
        int audioDuringPause = 0;
        void Tick(long now)
        {
            server.WriteFrame(0, frame, ts += 3000, now);
            int a = server.WriteFrame(1, Opus.AsSpan(0, 20), ats += 1600, now);
            if (server.VideoPaused)
            {
                audioDuringPause += a;
                if (pausedAt < 0) pausedAt = now;
            }
            else if (pausedAt >= 0 && resumedAt < 0)
                resumedAt = now;
        }
        long t0 = pair.Now;
        pair.Run(t0 + 20_000_000, Tick, FrameMicros, stop: () => pausedAt >= 0 && pair.Now > pausedAt + 2_000_000);
        Assert.True(pausedAt >= 0, $"video never paused: target {server.TargetBps}");
        Assert.True(server.VideoPaused);
        Assert.True(server.Counters.VideoPausedDrops > 0);
        Assert.True(audioDuringPause > 30, $"{audioDuringPause} audio packets written while video was paused");
        long videoSentAtPause = server.GetSendStream(0).PacketsWritten;

        pair.Link.RateBps = 0; // the path clears: probes (padding while video is paused) find it
        int keyframeRequestsBefore = pair.ServerEvents.Count(e => e.Kind == PeerEventKind.KeyframeRequested && e.Track == 0);
        pair.Run(pair.Now + 30_000_000, Tick, FrameMicros, stop: () => resumedAt >= 0 && pair.Now > resumedAt + 500_000);
        output.WriteLine($"paused at {(pausedAt - t0) / 1000} ms, resumed at {(resumedAt - t0) / 1000} ms, target {server.TargetBps}, " +
            $"pauses {server.Counters.VideoPauses}, resumes {server.Counters.VideoResumes}, probes {server.ProbesSent}, padding {server.ProbePaddingSent}");
        Assert.True(resumedAt >= 0, $"video never resumed: target {server.TargetBps}");
        Assert.True(server.Counters.VideoResumes >= 1);
        // The resume asks the source for a keyframe (as a PLI would), at the moment the target crossed the bar.
        var requests = pair.ServerEvents.Where(e => e.Kind == PeerEventKind.KeyframeRequested && e.Track == 0).Skip(keyframeRequestsBefore).ToList();
        Assert.Contains(requests, e => e.AtMicros <= resumedAt && e.AtMicros > resumedAt - FrameMicros - 1);
        Assert.True(server.GetSendStream(0).PacketsWritten > videoSentAtPause, "no video after the resume");
    }
}
