using Engine.Rtp.Media;
using Engine.Rtp.Receive;

namespace Engine.Rtp.Tests.Receive;

/// <summary>
/// NACK repair against a sender that behaves as Chromium's does (issue 20's E2E): it answers a NACK
/// from its history, ignores one for a packet it resent less than its RTT + 5 ms ago, and its
/// retransmissions cross the same lossy path as the media. 1080p-like packet counts (a keyframe is
/// ~100 packets) at 200 ms RTT, on a fake clock with seeded loss.
/// </summary>
public class NackRepairTests
{
    private sealed class FrameCounter : IEncodedFrameSink
    {
        public int Frames;
        public void OnFrame(int trackIndex, in EncodedFrame frame) => Frames++;
        public void OnEnd() { }
    }

    [Theory]
    [InlineData(0.01, 61)]
    [InlineData(0.05, 62)]
    [InlineData(0.05, 63)]
    public void AChromiumLikeSender_RepairsAlmostEveryLossInTime_AndNothingHeldIsFlushed(double loss, int seed)
    {
        const long oneWay = 100_000, rtt = 2 * oneWay, spacing = 2_500; // 400 packets/s within a frame: a 4 Mbit/s link
        var source = LossTestStreams.H264("baseline-320x240.h264", maxPayloadSize: 120);
        int framesPerLap = LossTestStreams.FrameCount(source), laps = 12;
        var sink = new FrameCounter();
        var stream = new RtpReceiveStream(MediaCodec.H264, 90000, 0, sink, useNack: true);
        stream.SetRttMicros(rtt);
        var random = new Random(seed);

        // Everything the sender sends, in send order: (arrival, bytes); retransmissions join as they are answered.
        var arrivals = new PriorityQueue<(long At, byte[] Bytes), long>();
        var history = new Dictionary<ushort, byte[]>();
        var lastResend = new Dictionary<ushort, long>();
        var lost = new HashSet<ushort>();
        var nacksAt = new PriorityQueue<ushort, long>(); // NACK items reaching the sender
        long sendAt = 0;
        int total = 0, lostResends = 0, ignored = 0;
        for (int lap = 0; lap < laps; lap++)
        {
            foreach (var p in source)
            {
                ushort seq = (ushort)(1000 + total);
                Assert.True(RtpPacketView.TryRead(p.Bytes, out var v));
                var bytes = LossTestStreams.Rtp(seq, (uint)((lap * framesPerLap + p.Frame) * 3000), v.Marker, v.Payload);
                long frameStart = (lap * framesPerLap + p.Frame) * 33_333L;
                sendAt = Math.Max(sendAt + spacing, frameStart);
                history[seq] = bytes;
                total++;
                if (random.NextDouble() < loss)
                    lost.Add(seq);
                else
                    arrivals.Enqueue((sendAt + oneWay, bytes), sendAt + oneWay);
            }
        }

        Span<ushort> nacks = stackalloc ushort[256];
        long end = sendAt + 3_000_000;
        int nackItems = 0;
        for (long now = 0; now <= end; now += 1_000)
        {
            while (nacksAt.TryPeek(out ushort s, out long at) && at <= now)
            {
                nacksAt.Dequeue();
                // libwebrtc's packet history: no resend within RTT + 5 ms of the last one.
                if (lastResend.TryGetValue(s, out long last) && now - last < rtt + 5_000)
                {
                    ignored++;
                    continue;
                }
                lastResend[s] = now;
                if (random.NextDouble() < loss)
                    lostResends++;
                else
                    arrivals.Enqueue((now + 5_000 + oneWay, history[s]), now + 5_000 + oneWay); // 5 ms in its pacer
            }
            while (arrivals.TryPeek(out var a, out _) && a.At <= now)
            {
                arrivals.Dequeue();
                Assert.True(RtpPacketView.TryRead(a.Bytes, out var view));
                stream.OnRtp(view, now);
            }
            stream.HandleTimeout(now);
            int n = stream.CollectNacks(now, nacks);
            nackItems += n;
            for (int i = 0; i < n; i++)
                nacksAt.Enqueue(nacks[i], now + oneWay);
        }

        Console.WriteLine($"loss {loss:P0} seed {seed}: {total} packets, {lost.Count} lost, {lostResends} retransmissions lost, {ignored} NACK items ignored by the sender; " +
            $"NACK items {nackItems} ({(double)nackItems / Math.Max(1, lost.Count):F2} per loss), recovered {stream.NackRecovered}; reorder gave up {stream.ReorderSkipped}, flushed {stream.ReorderFlushed} (hold {stream.ReorderHoldMicros / 1000} ms); " +
            $"frames {sink.Frames}/{framesPerLap * laps}, dropped {stream.FramesDropped}");
        Assert.True(lost.Count >= 3000 * loss, $"only {lost.Count} lost");
        Assert.True(loss < 0.03 || lostResends > 0, "no retransmission was lost: no second round was needed");
        Assert.Equal(lost.Count, stream.NackRecovered); // each one came back
        Assert.Equal(0, stream.ReorderFlushed); // a wait longer than the window gives up a gap, never the packets held behind it
        // In time: a gap is given up only when three rounds' retransmissions were lost (p^3: 0.0125% at 5%).
        Assert.True(stream.ReorderSkipped <= Math.Max(1, lost.Count / 100), $"gave up {stream.ReorderSkipped} of {lost.Count}");
        // A repeat one RTT after the first NACK would be ignored (and often doubled the resends): the repeats wait longer.
        Assert.True(nackItems <= lost.Count * (1 + 3 * loss) + 2, $"{nackItems} NACK items for {lost.Count} losses");
    }
}
