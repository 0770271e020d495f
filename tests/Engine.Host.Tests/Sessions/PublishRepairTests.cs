using System.Buffers.Binary;
using Engine.Host.Peers;
using Engine.Host.Tests.Peers;
using Engine.Rtp.Media;

namespace Engine.Host.Tests.Sessions;

/// <summary>
/// How well NACK + RTX repair a publisher's video (issue 20), in memory on a fake clock: a client
/// Peer publishes through <see cref="PublishHarness"/> at 50 ms RTT with seeded random loss on all
/// SRTP and SRTCP both ways (media, retransmissions, NACKs, reports; never STUN or DTLS). Every
/// lost video packet is followed by sequence number: when it was dropped, when it (or its RTX)
/// reached the session, and whether that was in time for the frame.
/// </summary>
public class PublishRepairTests
{
    private static readonly byte[][] Video = PeerTestData.AccessUnits("baseline-320x240.h264").Select(PeerTestData.AnnexB).ToArray();

    [Theory]
    [InlineData(0.01, 51)]
    [InlineData(0.01, 52)]
    [InlineData(0.05, 53)]
    [InlineData(0.05, 54)]
    public void LostVideo_IsRepaired_IncludingLostRetransmissions_WithinTheHold(double loss, int seed)
    {
        var sink = new TapSink();
        using var h = new PublishHarness(seed, sink: sink);
        sink.Clock = () => h.Now;
        h.Link.DelayMicros = 25_000; // 50 ms RTT
        h.Connect();
        var random = new Random(seed);
        var dropped = new Dictionary<ushort, long>(); // video sequence number -> when it was first dropped
        int rtxDropped = 0, nacksDropped = 0, losing = 1;
        h.Link.Filter = d =>
        {
            if (losing == 0 || d.Data.Length < 12 || d.Data[0] is < 128 or > 191 || random.NextDouble() >= loss)
                return true;
            bool toServer = d.To == PublishHarness.ServerAddress;
            int pt = d.Data[1] & 0x7F;
            uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(d.Data.AsSpan(8));
            if (toServer && pt == PublishHarness.VideoPt && ssrc == PublishHarness.VideoSsrc)
                dropped.TryAdd(BinaryPrimitives.ReadUInt16BigEndian(d.Data.AsSpan(2)), h.Now);
            else if (toServer && pt == PublishHarness.RtxPt)
                rtxDropped++;
            else if (!toServer && d.Data[1] == 205)
                nacksDropped++; // RTPFB (generic NACK, transport-cc) from the session
            return false;
        };
        var clientEvents = h.ClientEvents;
        int frame = 0, source = 0, frames = 2700; // 90 s at 30 fps: ~6000 video packets
        h.Run(h.Now + 91_000_000, now =>
        {
            if (frame >= frames)
                return;
            if (clientEvents.Any(e => e.Kind == PeerEventKind.KeyframeRequested))
            {
                clientEvents.RemoveAll(e => e.Kind == PeerEventKind.KeyframeRequested);
                source = (source + 9) / 10 * 10; // the file has an IDR every 10 frames
            }
            h.Client.WriteFrame(0, Video[source % Video.Length], (uint)(frame * 3000), now);
            frame++;
            source++;
        }, 33_333);
        losing = 0;
        h.Run(h.Now + 2_000_000);

        var rx = h.Session.Peer.GetReceiveStream(0);
        var repairMs = new List<double>();
        int repaired = 0;
        foreach (var (seq, at) in dropped)
        {
            if (sink.Arrivals.TryGetValue(seq, out var times) && times.Any(t => t > at))
            {
                repaired++;
                repairMs.Add((times.First(t => t > at) - at) / 1000.0);
            }
        }
        repairMs.Sort();
        double P(double q) => repairMs.Count == 0 ? double.NaN : repairMs[Math.Min(repairMs.Count - 1, (int)(q * repairMs.Count))];
        int delivered = sink.VideoFrames;
        long hold = rx.ReorderHoldMicros;
        Console.WriteLine($"loss {loss:P0} seed {seed}: {dropped.Count} video packets lost, {repaired} repaired ({100.0 * repaired / Math.Max(1, dropped.Count):F1}%), " +
            $"{rtxDropped} retransmissions and {nacksDropped} feedback packets lost too; drop -> arrival median {P(0.5):F0} ms, p95 {P(0.95):F0}, max {P(1):F0} " +
            $"(RTT {rx.RttMicros / 1000.0:F0} ms, hold {hold / 1000.0:F0} ms); reorder gave up {rx.ReorderSkipped}, flushed {rx.ReorderFlushed}; " +
            $"NACKs {rx.NacksSent}, frames {delivered}/{frames}, dropped {rx.FramesDropped}, PLIs {rx.PlisSent}");

        Assert.True(dropped.Count >= 40 * loss / 0.01, $"only {dropped.Count} lost: the loss did not happen");
        Assert.InRange(rx.RttMicros, 45_000, 60_000); // XR DLRR measured the link
        Assert.True(loss < 0.03 || rtxDropped > 0, "no retransmission was lost: the test would not cover a second round");
        // Every packet that was lost once, and its retransmission lost too, comes back in the end.
        Assert.Equal(dropped.Count, repaired);
        // In time for its frame: the packets that needed more rounds than the hold allows are few
        // (the NACK or RTX of each of three rounds lost: about (2p)^3 of the losses).
        Assert.True(rx.ReorderSkipped <= Math.Max(1, dropped.Count * (loss < 0.03 ? 0.02 : 0.05)), $"the reorder buffer gave up {rx.ReorderSkipped} of {dropped.Count}");
        Assert.Equal(0, rx.ReorderFlushed);
        // Most in the first round: one-way, the wait for the next packet to show the gap (a frame), one RTT.
        Assert.True(P(0.5) <= 25 + 34 + 50 + 10, $"median drop -> arrival {P(0.5)} ms");
        Assert.True(P(0.99) * 1000 <= hold + 25_000 + 34_000, $"p99 drop -> arrival {P(0.99)} ms: longer than the hold {hold / 1000} ms");
        Assert.True(delivered >= frames * (loss < 0.03 ? 0.97 : 0.9), $"delivered {delivered}/{frames}");
    }

    /// <summary>Every video packet the session demuxes (RTX unwrapped), with when; counts video frames.</summary>
    private sealed class TapSink : IEncodedFrameSink, IRtpPacketTap
    {
        public Func<long> Clock = () => 0;
        public readonly Dictionary<ushort, List<long>> Arrivals = [];
        public int VideoFrames;

        public void OnRtpPacket(int trackIndex, ReadOnlySpan<byte> rtpPacket)
        {
            if (trackIndex != 0 || rtpPacket.Length < 12)
                return;
            ushort seq = BinaryPrimitives.ReadUInt16BigEndian(rtpPacket[2..]);
            if (!Arrivals.TryGetValue(seq, out var list))
                Arrivals[seq] = list = [];
            list.Add(Clock());
        }

        public void OnFrame(int trackIndex, in EncodedFrame frame)
        {
            if (trackIndex == 0)
                VideoFrames++;
        }

        public void OnEnd() { }
    }
}
