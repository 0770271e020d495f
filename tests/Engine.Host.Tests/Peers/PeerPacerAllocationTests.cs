using Engine.Gcc;
using Engine.Host.Peers;
using Engine.Host.Transport;

namespace Engine.Host.Tests.Peers;

/// <summary>
/// Issue 16: the player's send path through its one pacer allocates nothing: frames written, the pacer holding and
/// releasing them at 2.5 x the target, probe padding, NACKed packets resent ahead of new video, the viewer's
/// transport-cc into the estimator and the pacer's new rate, all with the time moving on.
/// </summary>
public class PeerPacerAllocationTests
{
    private const int Slots = 512;

    private sealed class Hop
    {
        public readonly byte[][] Data = Enumerable.Range(0, Slots).Select(_ => new byte[1500]).ToArray();
        public readonly int[] Length = new int[Slots];
        public int Count;
    }

    [Fact]
    public void PacedSendPath_WithProbesResendsAndFeedback_AllocatesNothing()
    {
        using var pair = new PeerPair(97, serverSendEstimator: SendSideEstimatorOptions.Default);
        pair.Connect();
        var server = pair.Server;
        var client = pair.Client;
        var video = PeerTestData.AccessUnits("baseline-320x240.h264").Select(PeerTestData.AnnexB).ToArray();
        var opus = PeerTestData.OpusFrame(new Random(3));
        var toClient = new Hop();
        var toServer = new Hop();
        long now = pair.Now;
        uint ts = 0, ats = 0;
        int frame = 0, rtp = 0, maxQueued = 0;
        var serverFrom = PeerPair.ServerAddress;
        var clientFrom = PeerPair.ClientAddress;

        void Step(int frames)
        {
            for (int f = 0; f < frames; f++)
            {
                server.WriteFrame(0, video[frame++ % video.Length], ts += 3000, now);
                server.WriteFrame(1, opus, ats += 1600, now);
                maxQueued = Math.Max(maxQueued, server.Pacer!.QueuedPackets);
                for (int sub = 0; sub < 16; sub++, now += 2_083) // a frame interval in 2 ms steps: the pacer's bursts leave as they are due
                {
                    if (server.NextTimeoutMicros <= now)
                        server.HandleTimeout(now);
                    Drain(server, toClient);
                    for (int k = 0; k < toClient.Count; k++)
                    {
                        var d = toClient.Data[k].AsSpan(0, toClient.Length[k]);
                        if (DatagramDemux.Classify(d) == DatagramKind.Rtp && ++rtp % 37 == 0)
                            continue; // lost: the viewer NACKs it, the player resends it through the pacer
                        client.HandleDatagram(d, serverFrom, now);
                    }
                    toClient.Count = 0;
                    if (client.NextTimeoutMicros <= now)
                        client.HandleTimeout(now);
                    while (client.TryPollEvent(out _)) { }
                    Drain(client, toServer);
                    for (int k = 0; k < toServer.Count; k++)
                        server.HandleDatagram(toServer.Data[k].AsSpan(0, toServer.Length[k]), clientFrom, now);
                    toServer.Count = 0;
                    while (server.TryPollEvent(out _)) { }
                }
            }
        }

        Step(300); // JIT, the initial probes, the estimate up from its start
        long feedbackBefore = server.SendEstimator!.FeedbackReports;
        long paddingBefore = server.ProbePaddingSent, resentBefore = server.GetSendStream(0).Retransmitted, sentBefore = server.Counters.RtpSent;
        // Fewest bytes of three 7 s windows (each holds an ALR probe: they come every 5 s): a per-packet allocation shows in each.
        long allocated = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Step(210);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(server.SendEstimator.FeedbackReports - feedbackBefore > 100, "no feedback reached the player");
        Assert.True(server.ProbePaddingSent > paddingBefore, "no probe padding in the measured windows");
        Assert.True(server.GetSendStream(0).Retransmitted > resentBefore, "no resend in the measured windows");
        Assert.True(server.Counters.RtpSent - sentBefore > 1200, $"{server.Counters.RtpSent - sentBefore} packets sent");
        Assert.True(maxQueued > 1, "the pacer never held anything");
        Assert.Equal(0, allocated);
    }

    private static void Drain(Peer peer, Hop hop)
    {
        while (hop.Count < Slots && peer.TryPollTransmit(hop.Data[hop.Count], out int n, out _))
            hop.Length[hop.Count++] = n;
    }
}
