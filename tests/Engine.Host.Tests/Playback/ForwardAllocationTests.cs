using System.Buffers.Binary;
using Engine.Host.Peers;
using Engine.Host.Playback;
using Engine.Host.Tests.Peers;

namespace Engine.Host.Tests.Playback;

/// <summary>
/// The per-packet fan-out of playback allocates nothing after warm-up: one publisher packet's
/// keyframe check, then each of N connected players' WriteRtp (SSRC, sequence, timestamp
/// rewritten) and TryPollTransmit (paced, stamped, SRTP-protected), as PublishSession.Forward and
/// the loop's flush do it.
/// </summary>
public class ForwardAllocationTests
{
    private const int Players = 4;

    private static byte[] Packet(ushort seq, uint timestamp, bool marker, bool keyframe)
    {
        var p = new byte[12 + 1100];
        p[0] = 0x80;
        p[1] = (byte)((marker ? 0x80 : 0) | 102);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), 0xabcdef01);
        p[12] = 0x7c; // FU-A
        p[13] = (byte)(keyframe ? 0x85 : 0x01);
        for (int i = 14; i < p.Length; i++)
            p[i] = (byte)i;
        return p;
    }

    [Fact]
    public void PublisherPacketToNPlayersAllocatesNothing()
    {
        var pairs = Enumerable.Range(0, Players).Select(i => new PeerPair(70 + i)).ToArray();
        try
        {
            foreach (var p in pairs)
                p.Connect();
            long now = pairs.Max(p => p.Now);
            var packets = Enumerable.Range(0, 400).Select(i => Packet((ushort)(1000 + i), (uint)(i / 10 * 3000), i % 10 == 9, i % 100 == 0)).ToArray();
            var buffer = new byte[1500];
            long sent = 0, keyframeStarts = 0;

            void Fan(int start, int end)
            {
                for (int k = start; k < end; k++)
                {
                    now += 1_000;
                    if (KeyframeDetector.IsKeyframeStart("H264", packets[k].AsSpan(12)))
                        keyframeStarts++;
                    foreach (var pair in pairs)
                    {
                        var player = pair.Server;
                        player.WriteRtp(0, packets[k], now);
                        if (player.NextTimeoutMicros <= now)
                            player.HandleTimeout(now);
                        for (int guard = 0; guard < 64 && player.TryPollTransmit(buffer, out _, out _); guard++)
                            sent++;
                    }
                }
            }
            Fan(0, 200);
            long sentWarm = sent;
            long before = GC.GetAllocatedBytesForCurrentThread();
            Fan(200, 400);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Console.WriteLine($"forward: {allocated} bytes over 200 packets x {Players} players ({sent - sentWarm} datagrams out)");
            Assert.Equal(0, allocated);
            Assert.Equal(4, keyframeStarts);
            // Every packet left every player (the pacer may hold the last few).
            Assert.True(sent - sentWarm >= 200 * Players - 20 * Players, $"{sent - sentWarm} datagrams out of {200 * Players}");
            Assert.All(pairs, p => Assert.Equal(0, p.Server.Counters.WritesRefused));
        }
        finally
        {
            foreach (var p in pairs)
                p.Dispose();
        }
    }
}
