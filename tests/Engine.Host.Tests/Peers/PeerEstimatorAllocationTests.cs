using Engine.Gcc;
using Engine.Host.Peers;

namespace Engine.Host.Tests.Peers;

/// <summary>
/// With both estimators running, the media paths still allocate nothing: each received video packet into the
/// receive-side estimator (and its REMBs out), each transport-cc report and REMB into the send-side estimator.
/// </summary>
public class PeerEstimatorAllocationTests
{
    private const int Slots = 512;

    private sealed class Hop
    {
        public readonly byte[][] Data = Enumerable.Range(0, Slots).Select(_ => new byte[1500]).ToArray();
        public readonly int[] Length = new int[Slots];
        public int Count;
    }

    [Fact]
    public void EstimatorPaths_AllocateNothing()
    {
        using var pair = new PeerPair(81, serverReceiveEstimator: new ReceiveSideEstimatorOptions(100_000, 2_000_000, 2_000_000), serverRembBps: 2_000_000);
        pair.Connect();
        var client = pair.Client;
        var server = pair.Server;
        var frame = new byte[3000];
        frame[3] = 1;
        frame[4] = 0x41;
        frame.AsSpan(5).Fill(0xAB);
        var toServer = new Hop();
        var toClient = new Hop();
        long now = pair.Now;
        uint ts = 0;
        var from = PeerPair.ClientAddress;
        var serverFrom = PeerPair.ServerAddress;

        // Client (the browser) sends video; the server (a publisher) estimates and answers with transport-cc and
        // REMB, which the client's send-side estimator takes.
        void Step(int frames)
        {
            for (int f = 0; f < frames; f++)
            {
                now += 33_333;
                client.WriteFrame(0, frame, ts += 3000, now);
                if (client.NextTimeoutMicros <= now)
                    client.HandleTimeout(now);
                Drain(client, toServer);
                for (int k = 0; k < toServer.Count; k++)
                    server.HandleDatagram(toServer.Data[k].AsSpan(0, toServer.Length[k]), from, now + 10_000 + k * 100);
                toServer.Count = 0;
                if (server.NextTimeoutMicros <= now + 20_000)
                    server.HandleTimeout(now + 20_000);
                while (server.TryPollEvent(out _)) { }
                Drain(server, toClient);
                for (int k = 0; k < toClient.Count; k++)
                    client.HandleDatagram(toClient.Data[k].AsSpan(0, toClient.Length[k]), serverFrom, now + 30_000);
                toClient.Count = 0;
                while (client.TryPollEvent(out _)) { }
            }
        }

        Step(300);
        long feedbackBefore = client.SendEstimator!.FeedbackReports;
        long packetsBefore = server.ReceiveEstimator!.Packets;
        long rembsBefore = client.Counters.RembReceived;
        // Fewest bytes of three windows, as PeerAllocationTests: a per-packet allocation shows in each.
        long allocated = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Step(100);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(server.ReceiveEstimator.Packets - packetsBefore > 300, "the receive-side estimator saw no packets");
        Assert.True(client.SendEstimator.FeedbackReports - feedbackBefore > 30, "the send-side estimator saw no feedback");
        Assert.True(client.Counters.RembReceived - rembsBefore > 5, "no REMB reached the sender");
        Assert.Equal(0, allocated);
    }

    private static void Drain(Peer peer, Hop hop)
    {
        while (hop.Count < Slots && peer.TryPollTransmit(hop.Data[hop.Count], out int n, out _))
            hop.Length[hop.Count++] = n;
    }
}
