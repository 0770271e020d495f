using Engine.Host.Tests.Peers;

namespace Engine.Host.Tests.Sessions;

/// <summary>The publish receive path (SRTP, demux, receive streams, frames into the sink, RTCP out) allocates nothing per packet.</summary>
public class PublishSessionAllocationTests
{
    private static readonly byte[][] Video = PeerTestData.AccessUnits("baseline-320x240.h264").Select(PeerTestData.AnnexB).ToArray();

    [Fact]
    public void ReceivingMedia_AllocatesNothing()
    {
        var sink = new CountingSink();
        using var h = new PublishHarness(81, sink: sink);
        h.Connect();
        var client = h.Client;
        var session = h.Session;
        var buffer = new byte[1500];
        // The client's frames (video and audio), paced and protected, kept as datagrams to deliver by hand.
        var datagrams = new List<(byte[] Data, int Length)>();
        long now = h.Now;
        var opus = PeerTestData.OpusFrame(new Random(3));
        for (int round = 0; round < 8; round++)
        {
            for (int f = 0; f < Video.Length; f++, now += 33_333)
            {
                int frame = round * Video.Length + f;
                client.WriteFrame(0, Video[f], (uint)(frame * 3000), now);
                client.WriteFrame(1, opus, (uint)(frame * 1600), now);
                for (int guard = 0; guard < 200; guard++)
                {
                    if (client.TryPollTransmit(buffer, out int n, out _))
                    {
                        var copy = new byte[1500];
                        buffer.AsSpan(0, n).CopyTo(copy);
                        datagrams.Add((copy, n));
                    }
                    else if (client.NextTimeoutMicros <= now + 1000)
                        client.HandleTimeout(now += 1000);
                    else
                        break;
                }
            }
        }
        var from = PublishHarness.ClientAddress;
        long t = now;
        void Deliver(int start, int end)
        {
            for (int k = start; k < end; k++)
            {
                session.HandleDatagram(datagrams[k].Data.AsSpan(0, datagrams[k].Length), from, t += 1000);
                while (session.TryPollTransmit(buffer, out _, out _)) { }
            }
        }
        int half = datagrams.Count / 2;
        Deliver(0, half); // warm-up
        int warmFrames = sink.Frames;
        // Fewest bytes of three windows: a per-packet allocation shows in each, a runtime one-off in one at most.
        long allocated = long.MaxValue;
        int third = (datagrams.Count - half) / 3;
        for (int w = 0; w < 3; w++)
        {
            int start = half + w * third;
            long before = GC.GetAllocatedBytesForCurrentThread();
            Deliver(start, start + third);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Console.WriteLine($"publish receive: {allocated} bytes over {third} datagrams (fewest of 3 windows); {sink.Frames - warmFrames} frames");
        Assert.Equal(0, allocated);
        Assert.True(sink.Frames - warmFrames >= 3 * Video.Length, $"{sink.Frames - warmFrames} frames in the measured half");
        Assert.Equal(0, session.Peer.Counters.SrtpFailures);
    }
}
