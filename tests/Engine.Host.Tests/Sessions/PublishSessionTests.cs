using System.Buffers.Binary;
using Engine.Host.Peers;
using Engine.Host.Tests.Peers;

namespace Engine.Host.Tests.Sessions;

/// <summary>
/// PublishSession on its own, sans-IO: a client Peer publishes to it in memory on a fake clock
/// (<see cref="PublishHarness"/>), through the real negotiation's answer.
/// </summary>
public class PublishSessionTests
{
    private static readonly byte[][] Video = PeerTestData.AccessUnits("baseline-320x240.h264").Select(PeerTestData.AnnexB).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the offer said setup:passive: we are the DTLS client, started by the first check
    public void Handshake_ReachesConnected_InEitherDtlsRole(bool weAreDtlsClient)
    {
        using var h = new PublishHarness(1, weAreDtlsClient: weAreDtlsClient);
        h.Link.DelayMicros = 20_000;
        Assert.Equal("ice", h.Json().GetProperty("state").GetString());
        h.Connect();
        Assert.Equal(weAreDtlsClient ? Engine.Dtls.DtlsRole.Client : Engine.Dtls.DtlsRole.Server, h.Session.Peer.Dtls.Role);
        Assert.Equal(PublishHarness.ClientAddress, h.Session.SelectedRemote);
        Assert.False(h.Session.IsClosed);
        // The snapshot follows the state at once, not at the next tick.
        var json = h.Json();
        Assert.Equal("connected", json.GetProperty("state").GetString());
        Assert.Equal(PublishHarness.ClientAddress.ToString(), json.GetProperty("remote").GetString());
        Assert.True(json.TryGetProperty("srtpProfile", out _));
    }

    [Fact]
    public void Negotiation_AnswersRtxForVideo_AndTheTrackCarriesIt()
    {
        using var h = new PublishHarness(2, rtx: true);
        var video = h.Negotiation.Tracks[0];
        Assert.Equal(PublishHarness.RtxPt, video.RtxPayloadType);
        Assert.Equal(-1, h.Negotiation.Tracks[1].RtxPayloadType);
        string answer = h.Negotiation.Answer.Write();
        Assert.Contains("a=rtpmap:97 rtx/90000", answer);
        Assert.Contains("a=fmtp:97 apt=96", answer);
        Assert.Contains("m=video 3478 UDP/TLS/RTP/SAVPF 96 97", answer);
        using var plain = new PublishHarness(2, rtx: false);
        Assert.Equal(-1, plain.Negotiation.Tracks[0].RtxPayloadType);
        Assert.DoesNotContain("rtx", plain.Negotiation.Answer.Write());
    }

    [Fact]
    public void Media_ArrivesAsFramesAtTheSink_WithTheSameBytes()
    {
        using var h = new PublishHarness(3);
        h.Link.DelayMicros = 10_000;
        int started = 0;
        h.Session.OnMediaStarted = _ => started++;
        h.Connect();
        var opusRandom = new Random(5);
        var sentOpus = new List<byte[]>();
        int frame = 0, frames = Math.Min(Video.Length, 60);
        long start = h.Now;
        h.Run(start + 2_500_000, now =>
        {
            long t = now - start;
            if (t % 40_000 == 0 && frame < frames)
            {
                Assert.True(h.Client.WriteFrame(0, Video[frame], (uint)(frame * 3000), now) > 0);
                frame++;
            }
            if (t % 20_000 == 0 && sentOpus.Count < 100)
            {
                var opus = PeerTestData.OpusFrame(opusRandom);
                sentOpus.Add(opus);
                Assert.Equal(1, h.Client.WriteFrame(1, opus, (uint)((sentOpus.Count - 1) * 960), now));
            }
        }, 10_000);
        h.Run(h.Now + 500_000);

        var video = h.Recording.Frames.Where(f => f.Track == 0).ToList();
        Assert.Equal(frames, video.Count);
        for (int i = 0; i < frames; i++)
        {
            var expected = PeerTestData.Nals(Video[i]);
            var got = PeerTestData.AvccNals(video[i].Data);
            Assert.Equal(expected.Count, got.Count);
            for (int k = 0; k < expected.Count; k++)
                Assert.Equal(expected[k], got[k]);
            Assert.Equal((uint)(i * 3000), video[i].RtpTimestamp);
        }
        Assert.True(video[0].IsKeyframe);
        var audio = h.Recording.Frames.Where(f => f.Track == 1).Select(f => f.Data).ToList();
        Assert.Equal(sentOpus.Count, audio.Count);
        Assert.All(sentOpus.Zip(audio), p => Assert.Equal(p.First, p.Second));
        Assert.Equal(1, started);
        Assert.True(h.Session.MediaStarted);
        Assert.Equal(PublishHarness.VideoSsrc, h.Session.Peer.GetReceiveSsrc(0));
        Assert.Equal(PublishHarness.AudioSsrc, h.Session.Peer.GetReceiveSsrc(1));

        // /api/streams: the snapshot of the last tick (no media for 500 ms) holds the final figures.
        var json = h.Json();
        Assert.Equal("media", json.GetProperty("state").GetString());
        var tracks = json.GetProperty("tracks");
        Assert.Equal(frames, tracks[0].GetProperty("frames").GetInt64());
        Assert.Equal(sentOpus.Count, tracks[1].GetProperty("frames").GetInt64());
        Assert.Equal((long)PublishHarness.VideoSsrc, tracks[0].GetProperty("ssrc").GetInt64());
        Assert.Equal(320, tracks[0].GetProperty("width").GetInt32());
        Assert.Equal(h.Session.Peer.Counters.RtpReceived, json.GetProperty("counters").GetProperty("rtpPackets").GetInt64());
        Assert.Equal(0, json.GetProperty("counters").GetProperty("droppedUnknownSsrc").GetInt64());
        Assert.True(h.Session.Peer.Counters.RtcpSent > 0);
    }

    [Theory]
    [InlineData(31, true)]
    [InlineData(32, true)]
    [InlineData(33, false)] // no RTX negotiated: the client resends on the media SSRC
    [InlineData(34, false)]
    public void Nack_FivePercentLoss_RepairsVideo_ByRtxWhenNegotiated(int seed, bool rtx)
    {
        using var h = new PublishHarness(seed, rtx: rtx);
        h.Link.DelayMicros = 25_000; // 50 ms RTT
        h.Connect();
        var clientEvents = h.ClientEvents;
        int frame = 0, source = 0, frames = 300;
        h.Run(h.Now + 10_000_000, now =>
        {
            if (frame == 3)
                h.Link.Loss = 0.05; // on everything, both ways: media, RTX, NACKs, reports
            if (frame < frames)
            {
                if (clientEvents.Any(e => e.Kind == PeerEventKind.KeyframeRequested))
                {
                    clientEvents.RemoveAll(e => e.Kind == PeerEventKind.KeyframeRequested);
                    source = (source + 9) / 10 * 10; // the file has an IDR every 10 frames
                }
                h.Client.WriteFrame(0, Video[source % Video.Length], (uint)(frame * 3000), now);
                frame++;
                source++;
            }
        }, 33_333);
        h.Link.Loss = 0;
        h.Run(h.Now + 2_000_000);

        var lost = h.Link.DroppedDatagrams
            .Where(d => d.To == PublishHarness.ServerAddress && d.Data.Length > 12 && (d.Data[1] & 0x7F) == PublishHarness.VideoPt
                && BinaryPrimitives.ReadUInt32BigEndian(d.Data.AsSpan(8)) == PublishHarness.VideoSsrc)
            .Select(d => BinaryPrimitives.ReadUInt16BigEndian(d.Data.AsSpan(2))).Distinct().Count();
        var rx = h.Session.Peer.GetReceiveStream(0);
        var tx = h.Client.GetSendStream(0);
        int delivered = h.Recording.Frames.Count(f => f.Track == 0);
        Console.WriteLine($"seed {seed} rtx {rtx}: lost {lost} video packets; nacks {rx.NacksSent}, recovered {rx.NackRecovered}, " +
            $"rtx received {h.Session.Peer.Counters.RtxReceived}, resent {tx.Retransmitted}; frames {delivered}/{frames}, plis {rx.PlisSent}");
        Assert.True(lost > 10, $"only {lost} lost: the loss did not happen");
        Assert.True(rx.NacksSent > 0);
        Assert.True(rx.NackRecovered >= lost * 0.9, $"recovered {rx.NackRecovered} of {lost}");
        Assert.True(delivered >= frames * 0.95, $"delivered {delivered}/{frames}");
        if (rtx)
        {
            Assert.True(h.Session.Peer.Counters.RtxReceived >= rx.NackRecovered * 0.9, "repairs came by RTX");
            Assert.Equal(PublishHarness.RtxSsrc, h.Session.Peer.GetReceiveRtxSsrc(0));
        }
        else
        {
            Assert.Equal(0, h.Session.Peer.Counters.RtxReceived);
            Assert.Equal(0u, h.Session.Peer.GetReceiveRtxSsrc(0));
        }
        Assert.Equal(0, h.Session.Peer.Counters.DroppedUnknownSsrc);
    }

    [Fact]
    public void PaddingOnRtx_NeverTouchesTheMediaSequence()
    {
        using var h = new PublishHarness(41);
        h.Link.DelayMicros = 10_000;
        h.Connect();
        int frame = 0, frames = 60;
        ushort rtxSeq = 7000;
        h.Run(h.Now + 2_500_000, now =>
        {
            if (frame < frames)
                h.Client.WriteFrame(0, Video[frame % Video.Length], (uint)(frame * 3000), now);
            // Chromium's bandwidth probe: padding-only packets on the RTX SSRC, from the second frame on.
            if (frame >= 1 && frame < frames)
                for (int k = 0; k < 3; k++)
                    h.Inject(PublishHarness.RtxPt, PublishHarness.RtxSsrc, rtxSeq++, (uint)(frame * 3000), [], padding: 224);
            frame++;
        }, 33_333);
        h.Run(h.Now + 500_000);

        var rx = h.Session.Peer.GetReceiveStream(0);
        int injected = rtxSeq - 7000;
        Assert.Equal(3 * (frames - 1), injected);
        Assert.Equal(injected, h.Session.Peer.Counters.RtxPadding);
        Assert.Equal(0, h.Session.Peer.Counters.RtxReceived);
        Assert.Equal(PublishHarness.RtxSsrc, h.Session.Peer.GetReceiveRtxSsrc(0));
        // The media stream saw only the client's own packets: no gap, no NACK, no dropped frame.
        Assert.Equal(h.Client.GetSendStream(0).PacketsSent, rx.Statistics.PacketsReceived);
        Assert.Equal(0, rx.Statistics.CumulativeLost);
        Assert.Equal(0, rx.NacksSent);
        Assert.Equal(0, rx.FramesDropped);
        Assert.Equal(frames, h.Recording.Frames.Count(f => f.Track == 0));
        Assert.Equal(injected, h.Json().GetProperty("counters").GetProperty("rtxPadding").GetInt64());
    }

    [Fact]
    public void ASecondSimulcastSsrc_IsCountedAndNeverFedIntoTheBoundStream()
    {
        using var h = new PublishHarness(42);
        h.Link.DelayMicros = 10_000;
        h.Connect();
        int frame = 0, frames = 30;
        ushort seq = 100;
        var junk = new byte[300];
        new Random(1).NextBytes(junk);
        junk[0] = 0x41; // a non-IDR slice NAL header
        h.Run(h.Now + 1_500_000, now =>
        {
            if (frame < frames)
            {
                h.Client.WriteFrame(0, Video[frame % Video.Length], (uint)(frame * 3000), now);
                // A second layer (another SSRC, same payload type) the answer did not negotiate.
                if (frame >= 1)
                    h.Inject(PublishHarness.VideoPt, 0x5555, seq++, (uint)(frame * 3000 + 123_456), junk);
            }
            frame++;
        }, 33_333);
        h.Run(h.Now + 500_000);

        var rx = h.Session.Peer.GetReceiveStream(0);
        Assert.Equal(frames - 1, h.Session.Peer.Counters.DroppedSecondSsrc);
        Assert.Equal(PublishHarness.VideoSsrc, h.Session.Peer.GetReceiveSsrc(0));
        Assert.Equal(h.Client.GetSendStream(0).PacketsSent, rx.Statistics.PacketsReceived);
        Assert.Equal(0, rx.FramesDropped);
        Assert.Equal(frames, h.Recording.Frames.Count(f => f.Track == 0));
        Assert.Equal(frames - 1, h.Json().GetProperty("counters").GetProperty("droppedSecondSsrc").GetInt64());
    }

    [Fact]
    public void Pli_GoesOut_WhenTheSinkOrAPlayerAsks()
    {
        using var h = new PublishHarness(51);
        h.Link.DelayMicros = 10_000;
        h.Connect();
        int frame = 0;
        void Send(long until) => h.Run(until, now => h.Client.WriteFrame(0, Video[frame++ % Video.Length], (uint)(frame * 3000), now), 33_333);
        Send(h.Now + 1_000_000);
        var rx = h.Session.Peer.GetReceiveStream(0);
        var tx = h.Client.GetSendStream(0);
        // Requests repeat every RTT + margin until a keyframe comes; a margin past each 300 ms window
        // keeps this test to one request per window (the repeat timing is tested in Engine.Rtp.Tests).
        rx.KeyframeRequestMarginMicros = 400_000;
        long plis = rx.PlisSent, received = tx.PlisReceived;
        Send(h.Now + 1_000_000);
        Assert.Equal(plis, rx.PlisSent); // keyframes flow: nobody asks

        h.Recording.WantKeyframe = true; // the output lost its place
        h.ClientEvents.Clear();
        Send(h.Now + 300_000);
        Assert.Contains(h.ClientEvents, e => e.Kind == PeerEventKind.KeyframeRequested && e.Track == 0);
        Assert.Equal(plis + 1, rx.PlisSent);
        Assert.Equal(received + 1, tx.PlisReceived);

        // A player's request (RequestKeyframe, coalesced to one per 500 ms) takes the same path.
        h.ClientEvents.Clear();
        h.Session.RequestKeyframe(h.Now);
        h.Session.RequestKeyframe(h.Now + 1); // coalesced
        Send(h.Now + 300_000);
        Assert.Single(h.ClientEvents, e => e.Kind == PeerEventKind.KeyframeRequested);
        Assert.Equal(received + 2, tx.PlisReceived);
    }

    [Fact]
    public void ClientHangsUp_ByeAndCloseNotify_EndTheSession()
    {
        using var h = new PublishHarness(61);
        h.Link.DelayMicros = 10_000;
        h.Connect();
        h.Run(h.Now + 500_000, now => h.Client.WriteFrame(0, Video[0], 0, now), 100_000);
        h.Client.Close(h.Now);
        h.Flush();
        h.Run(h.Now + 100_000);
        Assert.True(h.Session.IsClosed);
        Assert.Equal("DTLS close_notify", h.Session.CloseReason);
        Assert.Equal(1, h.Session.Peer.ByesReceived);
        Assert.Equal(long.MaxValue, h.Session.NextTimeoutMicros);
        Assert.Equal("closed", h.Json().GetProperty("state").GetString());
        h.Session.OnRemoved(); // as the loop does once it forgot the session
        Assert.Equal("DTLS close_notify", h.ClosedWith);
        Assert.Equal(1, h.Recording.Ends);
    }

    [Fact]
    public void SignalingHangsUp_TheSessionSendsByeAndCloseNotify()
    {
        using var h = new PublishHarness(62);
        h.Link.DelayMicros = 10_000;
        h.Connect();
        h.Run(h.Now + 500_000, now => h.Client.WriteFrame(0, Video[0], 0, now), 100_000);
        h.Session.RequestClose("signaling: test");
        Assert.Equal(0, h.Session.NextTimeoutMicros);
        h.Run(h.Now + 100_000);
        Assert.True(h.Session.IsClosed);
        Assert.Equal(PeerState.Closed, h.Client.State);
        Assert.Equal("DTLS close_notify", h.Client.CloseReason);
        Assert.Equal(1, h.Client.ByesReceived);
        h.Session.OnRemoved();
        Assert.Equal("signaling: test", h.ClosedWith);
        Assert.Equal(1, h.Recording.Ends);
    }

    [Fact]
    public void RtpTestLoss_DropsBurstsAndNackRepairsThem()
    {
        using var h = new PublishHarness(71, simulateLoss: true);
        h.Link.DelayMicros = 10_000;
        h.Connect();
        int frame = 0, frames = 300;
        h.Run(h.Now + 10_000_000, now =>
        {
            if (frame < frames)
                h.Client.WriteFrame(0, Video[frame % Video.Length], (uint)(frame * 3000), now);
            frame++;
        }, 33_333);
        h.Run(h.Now + 2_000_000);
        var rx = h.Session.Peer.GetReceiveStream(0);
        Console.WriteLine($"simulated loss {h.Session.SimulatedLoss}; nacks {rx.NacksSent}, recovered {rx.NackRecovered}; frames {h.Recording.Frames.Count(f => f.Track == 0)}/{frames}");
        Assert.True(h.Session.SimulatedLoss > 0);
        Assert.True(rx.NackRecovered > 0);
        Assert.Equal(h.Session.SimulatedLoss, h.Json().GetProperty("counters").GetProperty("simulatedLoss").GetInt64());
    }
}
