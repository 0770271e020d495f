using System.Net;
using Engine.Dtls;
using Engine.Host.Config;
using Engine.Host.Peers;
using Engine.Host.Playback;
using Engine.Host.Sessions;
using Engine.Host.Tests.Peers;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Rtp;
using Engine.Rtp.Media;
using Engine.Rtp.Sdp;

namespace Engine.Host.Tests.Playback;

/// <summary>
/// A player's offer with abs-send-time and transport-wide-cc: the answer keeps both, the player
/// Peer built from it stamps every packet as it leaves (retransmissions too), and the client's
/// transport-cc feedback is matched against its SendHistory. [RTP] RTP_PLAY_LOSS drops only media,
/// retransmissions included, after stamping.
/// </summary>
public sealed class PlayTransportFeedbackTests : IDisposable
{
    private const int AbsSendTimeId = 2, TransportCcId = 3;
    private static readonly NetAddress Server = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 3478));
    private static readonly NetAddress Client = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("10.0.0.3"), 50000));
    private static readonly byte[][] Video = PeerTestData.AccessUnits("baseline-320x240.h264").Select(PeerTestData.AnnexB).ToArray();

    private static readonly NegotiatedTrack[] Published =
    {
        new("0", MediaKind.Audio, "OPUS", 111, 48000, 2, null, []),
        new("1", MediaKind.Video, "H264", 102, 90000, 1, "42e01f", []),
    };

    private static readonly PublishNegotiation.LocalParameters Local = new(
        "plyS", "playserverpassword0123456", new SdpFingerprint("sha-256", new byte[32]), "10.0.0.2", 3478, 42);

    // PlayNegotiationTests' offer with the two extensions on both m-lines and transport-cc on the audio codec too (as Chromium offers).
    internal static readonly string Offer = PlayNegotiationTests.Offer
        .Replace("a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\n",
            $"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\na=extmap:{AbsSendTimeId} {PublishNegotiation.AbsSendTimeUri}\na=extmap:{TransportCcId} {PublishNegotiation.TransportCcUri}\n")
        .Replace("a=rtpmap:109 opus/48000/2\n", "a=rtpmap:109 opus/48000/2\na=rtcp-fb:109 transport-cc\n");

    private readonly DtlsCertificate _serverCert = DtlsCertificate.Generate(), _clientCert = DtlsCertificate.Generate();
    private readonly byte[] _buffer = new byte[1500];

    public void Dispose()
    {
        _serverCert.Dispose();
        _clientCert.Dispose();
    }

    private static PlayNegotiation.Result Answer(string offer)
    {
        Assert.True(SessionDescription.TryParse(offer.ReplaceLineEndings("\r\n"), out var sdp, out var error), error.ToString());
        Assert.True(PlayNegotiation.TryAnswer(sdp!, Published, "cam", Local, new Random(3), out var r, out var reason), reason);
        return r!;
    }

    [Fact]
    public void AnswerKeepsAbsSendTimeAndTransportCcWithWildcardFeedback()
    {
        var r = Answer(Offer);
        Assert.Equal(AbsSendTimeId, r.AbsSendTimeExtensionId);
        Assert.Equal(TransportCcId, r.TransportCcExtensionId);
        Assert.True(SessionDescription.TryParse(r.Answer.Write(), out var answer, out var error), error.ToString());
        foreach (var m in answer!.Media)
        {
            Assert.Contains(new SdpExtmap(AbsSendTimeId, PublishNegotiation.AbsSendTimeUri), m.Extmaps);
            Assert.Contains(new SdpExtmap(TransportCcId, PublishNegotiation.TransportCcUri), m.Extmaps);
            Assert.Contains(m.WildcardFeedback, f => f.Type == "transport-cc");
        }
        Assert.Contains("a=rtcp-fb:* transport-cc\r\n", r.Answer.Write());

        // The extension without any transport-cc feedback in the offer is not taken (the player would not send feedback).
        string noFeedback = Offer.Replace("a=rtcp-fb:98 transport-cc\n", "").Replace("a=rtcp-fb:109 transport-cc\n", "");
        var bare = Answer(noFeedback);
        Assert.Equal(0, bare.TransportCcExtensionId);
        Assert.Equal(AbsSendTimeId, bare.AbsSendTimeExtensionId);
        Assert.DoesNotContain("transport-cc", bare.Answer.Write());
        // Not offered: not answered.
        var none = Answer(PlayNegotiationTests.Offer);
        Assert.Equal((0, 0), (none.AbsSendTimeExtensionId, none.TransportCcExtensionId));
    }

    [Fact]
    public void RtpPlayLossIsReadFromTheRtpSection()
    {
        var c = EngineConfig.Parse("[RTP]\nRTP_PLAY_LOSS=5\nRTP_PLAY_LOSS_SEED=77\n");
        Assert.Equal(5, c.PlayLossPercent);
        Assert.Equal(77, c.PlayLossSeed);
        Assert.Empty(c.Warnings);
        Assert.Equal(0, EngineConfig.Default().PlayLossPercent);
        var bad = Assert.Throws<ConfigException>(() => EngineConfig.Parse("[RTP]\nRTP_PLAY_LOSS=60\n"));
        Assert.Contains("RTP_PLAY_LOSS", bad.Message);
    }

    private static ushort TransportSeq(MemoryLink.Datagram d)
    {
        ushort seq = 0;
        Assert.True(RtpPacketView.TryRead(d.Data, out var p) && p.TryGetExtension(TransportCcId, out var tcc) && TransportSequenceNumber.TryRead(tcc, out seq));
        return seq;
    }

    private sealed class Run
    {
        public required Peer Player, Viewer;
        public required MemoryLink Link;
        public required PlayNegotiation.Result Negotiation;
        public readonly List<(uint Ssrc, int Transport, long Abs)> MediaSent = [];
        public int RtcpSent, StunSent, DtlsSent;
        public readonly List<Engine.Rtp.Send.SentPacketResult> Feedback = [];
        public int FramesReceived;
    }

    /// <summary>The player Peer as PublishService builds it from the answer, a client Peer receiving, 25 ms each way, 4 s of H.264 at 30 frames/s.</summary>
    private Run Play(int lossPercent, double linkLoss = 0)
    {
        var r = Answer(Offer);
        var video = r.Tracks.Single(t => t.Kind == MediaKind.Video);
        var player = new Peer(new PeerConfig
        {
            Role = PeerRole.IceLiteServer,
            LocalUfrag = Local.IceUfrag, LocalPwd = Local.IcePwd, RemoteUfrag = "plyC",
            Certificate = _serverCert, RemoteFingerprint = _clientCert.Fingerprint,
            SendTracks = [new PeerSendTrack { Mid = video.Mid, Ssrc = video.Ssrc, PayloadType = video.PayloadType, Codec = MediaCodec.H264, RtxSsrc = video.RtxSsrc, RtxPayloadType = video.RtxPayloadType }],
            MidExtensionId = r.MidExtensionId,
            AbsSendTimeExtensionId = r.AbsSendTimeExtensionId,
            TransportCcExtensionId = r.TransportCcExtensionId,
            SimulatedSendLossPercent = lossPercent,
            SimulatedSendLossSeed = 9,
            Seed = 4,
        }, 0);
        var viewer = new Peer(new PeerConfig
        {
            Role = PeerRole.ControllingClient,
            LocalUfrag = "plyC", LocalPwd = "play-client-password-0123",
            RemoteUfrag = Local.IceUfrag, RemotePwd = Local.IcePwd, RemoteCandidate = Server,
            Certificate = _clientCert, RemoteFingerprint = _serverCert.Fingerprint,
            ReceiveTracks = [new PeerReceiveTrack { Mid = video.Mid, Ssrc = video.Ssrc, RtxSsrc = video.RtxSsrc ?? 0, PayloadType = video.PayloadType, RtxPayloadType = video.RtxPayloadType, Codec = MediaCodec.H264 }],
            TransportCcExtensionId = r.TransportCcExtensionId,
            Seed = 5,
        }, 0);
        var run = new Run { Player = player, Viewer = viewer, Link = new MemoryLink(6) { DelayMicros = 25_000, Loss = linkLoss }, Negotiation = r };
        // Every datagram the player sends, classified; loss (when asked) only on media.
        run.Link.Impair = d => d.From == Server && DatagramDemux.Classify(d.Data) == DatagramKind.Rtp;
        run.Link.Filter = d =>
        {
            if (d.From != Server)
                return true;
            switch (DatagramDemux.Classify(d.Data))
            {
                case DatagramKind.Rtp:
                    // SRTP leaves the header in clear, not the padding count: a probe's padding-only packet is read without its P bit.
                    var clear = d.Data.ToArray();
                    clear[0] &= 0xdf;
                    Assert.True(RtpPacketView.TryRead(clear, out var p));
                    ushort seq = 0;
                    Assert.True(p.TryGetExtension(TransportCcId, out var tcc) && TransportSequenceNumber.TryRead(tcc, out seq), "no transport-wide sequence number");
                    Assert.True(p.TryGetExtension(AbsSendTimeId, out var abs) && abs.Length == AbsSendTime.SerializedLength, "no abs-send-time");
                    run.MediaSent.Add((p.Ssrc, seq, (abs[0] << 16) | (abs[1] << 8) | abs[2]));
                    break;
                case DatagramKind.Rtcp: run.RtcpSent++; break;
                case DatagramKind.Stun: run.StunSent++; break;
                case DatagramKind.Dtls: run.DtlsSent++; break;
            }
            return true;
        };

        long now = 0, nextFrame = 0;
        int frame = 0;
        for (int guard = 0; guard < 2_000_000 && now < 5_000_000; guard++)
        {
            long next = Math.Min(Math.Min(player.NextTimeoutMicros, viewer.NextTimeoutMicros), Math.Min(run.Link.NextDeliveryMicros, nextFrame));
            now = Math.Max(now + 1, next);
            if (now >= nextFrame)
            {
                if (player.State == PeerState.Connected && now < 4_500_000)
                {
                    player.WriteFrame(0, Video[frame % Video.Length], (uint)(now * 9 / 100), now);
                    frame++;
                }
                nextFrame += 33_333;
            }
            while (run.Link.TryReceive(now, out var d))
                (d.To == Server ? player : viewer).HandleDatagram(d.Data, d.From, now);
            if (player.NextTimeoutMicros <= now) player.HandleTimeout(now);
            if (viewer.NextTimeoutMicros <= now) viewer.HandleTimeout(now);
            while (player.TryPollTransmit(_buffer, out int n, out var to)) run.Link.Send(Server, to, _buffer.AsSpan(0, n), now);
            while (viewer.TryPollTransmit(_buffer, out int n, out var to)) run.Link.Send(Client, to, _buffer.AsSpan(0, n), now);
            while (player.TryPollEvent(out var ev))
                if (ev.Kind == PeerEventKind.TransportFeedback)
                    run.Feedback.AddRange(player.GetFeedback(ev).ToArray());
            while (viewer.TryPollEvent(out var ev))
                if (ev.Kind == PeerEventKind.FrameReceived)
                    run.FramesReceived++;
        }
        Assert.Equal(PeerState.Connected, player.State);
        Assert.Equal(PeerState.Connected, viewer.State);
        return run;
    }

    [Fact]
    public void EveryPacketLeavesStampedAndTheViewersFeedbackLandsInTheSendHistory()
    {
        var run = Play(lossPercent: 0, linkLoss: 0.05);
        using (run.Player)
        using (run.Viewer)
        {
            var stream = run.Player.GetSendStream(0);
            Assert.True(stream.Retransmitted > 0, "the 5% link loss was not repaired by retransmission");
            // One transport-wide sequence per packet that left, in the order they left, media and RTX alike.
            Assert.True(run.MediaSent.Count > 150, $"{run.MediaSent.Count} media packets");
            for (int i = 1; i < run.MediaSent.Count; i++)
                Assert.Equal((ushort)(run.MediaSent[i - 1].Transport + 1), (ushort)run.MediaSent[i].Transport);
            Assert.Contains(run.MediaSent, m => m.Ssrc == run.Negotiation.Tracks.Single(t => t.Kind == MediaKind.Video).RtxSsrc);
            Assert.Equal(run.MediaSent.Count, run.Player.SendHistory.Recorded);
            // abs-send-time (6.18 fixed point seconds, 24 bits) moves forward with the clock.
            Assert.True(run.MediaSent[^1].Abs != run.MediaSent[0].Abs);

            // The viewer's transport-cc feedback, matched: nearly every packet reported, the lost ones as lost,
            // arrival minus send time the link's 25 ms for all (the arrival clock is the viewer's; only differences count).
            Assert.True(run.Feedback.Count >= run.MediaSent.Count * 0.9, $"{run.Feedback.Count} feedback results for {run.MediaSent.Count} packets");
            Assert.Equal(0, run.Player.SendHistory.UnknownInFeedback);
            // What the feedback calls lost is what the link dropped, and the other way round. (Losses between two
            // feedback packets go unreported: the builder starts each at its first received packet.)
            var droppedSeqs = run.Link.DroppedDatagrams.Select(TransportSeq).ToHashSet();
            var lost = run.Feedback.Where(f => !f.Received).ToList();
            Assert.NotEmpty(lost);
            Assert.All(lost, f => Assert.Contains((ushort)f.TransportSequenceNumber, droppedSeqs));
            Assert.All(run.Feedback.Where(f => f.Received), f => Assert.DoesNotContain((ushort)f.TransportSequenceNumber, droppedSeqs));
            var received = run.Feedback.Where(f => f.Received && f.ArrivalMicros >= 0).ToList();
            long offset = received[0].ArrivalMicros - received[0].SendMicros;
            Assert.All(received, f => Assert.InRange(f.ArrivalMicros - f.SendMicros - offset, -1_000, 1_000)); // 250 µs ticks
            Assert.True(run.FramesReceived > 100, $"{run.FramesReceived} frames");

            // A browser's full-size packet (1200 bytes, 1172 of them payload) is relayed whole despite our two extensions.
            var big = new byte[12 + 1172];
            big[0] = 0x80;
            big[1] = 96;
            Assert.True(run.Player.WriteRtp(0, big, 5_000_000), "a 1172-byte payload did not fit");
            Assert.Equal(0, stream.PacketsTooLarge);
        }
    }

    [Fact]
    public void SimulatedSendLossDropsOnlyMediaRetransmissionsIncluded()
    {
        var run = Play(lossPercent: 10);
        using (run.Player)
        using (run.Viewer)
        {
            var stream = run.Player.GetSendStream(0);
            long dropped = run.Player.Counters.SimulatedSendLoss;
            long polled = stream.PacketsSent + stream.Retransmitted + stream.PaddingPacketsSent; // every packet the pacer let go, probe padding on RTX too
            Assert.Equal(polled, run.MediaSent.Count + dropped);
            Assert.InRange(dropped, polled * 5 / 100, polled * 15 / 100);
            // Dropped after stamping: the history holds them, the feedback says they never arrived.
            Assert.Equal(polled, run.Player.SendHistory.Recorded);
            var left = run.MediaSent.Select(m => (ushort)m.Transport).ToHashSet();
            Assert.Contains(run.Feedback, f => !f.Received);
            Assert.All(run.Feedback, f => Assert.Equal(f.Received, left.Contains((ushort)f.TransportSequenceNumber)));
            // Retransmissions are in the lottery: fewer RTX packets reached the link than were resent.
            uint rtx = run.Negotiation.Tracks.Single(t => t.Kind == MediaKind.Video).RtxSsrc!.Value;
            int rtxOnLink = run.MediaSent.Count(m => m.Ssrc == rtx);
            long rtxWritten = stream.Retransmitted + stream.PaddingPacketsSent; // the RTX SSRC carries probe padding too
            Assert.True(rtxOnLink > 0 && rtxOnLink < rtxWritten, $"{rtxOnLink} RTX packets left of {rtxWritten} resent or padding");
            // Control is never dropped: every RTCP packet counted went out, and ICE and DTLS completed.
            Assert.Equal(run.Player.Counters.RtcpSent, run.RtcpSent);
            Assert.True(run.StunSent > 0 && run.DtlsSent > 0);
            Assert.Equal(0, run.Link.Dropped); // the link itself lost nothing
            Assert.True(run.FramesReceived > 100, $"{run.FramesReceived} frames played through 10% loss");
        }
    }
}
