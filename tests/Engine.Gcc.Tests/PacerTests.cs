namespace Engine.Gcc.Tests;

public class PacerTests
{
    private static List<PacedPacket> Drain(Pacer p, long now)
    {
        var sent = new List<PacedPacket>();
        while (p.NextWakeMicros(now) <= now && p.TryPoll(now, out var x))
            sent.Add(x);
        return sent;
    }

    [Fact]
    public void Priority_AudioThenRetransmissionThenVideo()
    {
        var p = new Pacer();
        p.SetTarget(1_000_000, 0);
        p.TryEnqueue(PacedPacketKind.Video, 1000, 1, 0);
        p.TryEnqueue(PacedPacketKind.Retransmission, 1000, 2, 0);
        p.TryEnqueue(PacedPacketKind.Audio, 100, 3, 0);
        p.TryEnqueue(PacedPacketKind.Video, 1000, 4, 0);
        var first = Drain(p, 0).Select(x => x.Handle).ToArray();
        Assert.Equal([3L, 2, 1], first); // then the 5 ms burst budget (1562 bytes at 2.5 Mbps) is spent
        Assert.Equal(6_720, p.NextWakeMicros(0)); // 2100 bytes of debt at 312.5 bytes/ms
        Assert.Equal([4L], Drain(p, 6_720).Select(x => x.Handle).ToArray());
    }

    [Fact]
    public void Retransmissions_AreBoundedByTheTargetPerWindow()
    {
        var p = new Pacer();
        // The bucket starts full at the default 300 kbps (37,500 bytes); the 400 kbps target makes it 50,000 deep.
        p.SetTarget(400_000, 0);
        int accepted = 0;
        for (int i = 0; i < 400; i++) // a burst of NACKs for 480 kB
            if (p.TryEnqueue(PacedPacketKind.Retransmission, 1200, i, 0))
                accepted++;
        Assert.Equal(31, accepted); // 31 x 1200 = 37,200 <= 37,500
        Assert.Equal(369, p.RetransmissionsOverBudget);
        Assert.Equal(0, p.DroppedFull);
        Assert.True(p.TryEnqueue(PacedPacketKind.Video, 1200, 1000, 0), "new video is not held by the resend budget");
        // Half a window later half the budget is back; a lower target shrinks the bucket at once.
        int later = 0;
        for (int i = 0; i < 100; i++)
            if (p.TryEnqueue(PacedPacketKind.Retransmission, 1200, 2000 + i, 500_000))
                later++;
        Assert.Equal(21, later); // 300 left + 25,000 refilled at 400 kbps = 25,300 bytes
        p.SetTarget(96_000, 2_000_000); // bucket at most 12,000 bytes
        int low = 0;
        for (int i = 0; i < 100; i++)
            if (p.TryEnqueue(PacedPacketKind.Retransmission, 1200, 3000 + i, 2_000_000))
                low++;
        Assert.Equal(10, low);
    }

    [Fact]
    public void Pacing_IsTwoAndAHalfTimesTheTarget_InFiveMillisecondBursts()
    {
        var p = new Pacer();
        p.SetTarget(1_000_000, 0); // 2.5 Mbps pacing: 312.5 bytes/ms, a 5 ms burst is 1562 bytes
        for (int i = 0; i < 300; i++)
            p.TryEnqueue(PacedPacketKind.Video, 1000, i, 0);
        long sentBytes = 0, now = 0, wakes = 0, lastBurst = 0;
        var burstSizes = new List<long>();
        while (p.QueuedPackets > 0 && now < 10_000_000)
        {
            long burst = Drain(p, now).Sum(x => (long)x.Size);
            if (burst > 0) { burstSizes.Add(burst); lastBurst = now; }
            sentBytes += burst;
            long next = p.NextWakeMicros(now);
            if (p.QueuedPackets == 0) break;
            Assert.True(next > now, "the pacer must ask to be woken later when it sent nothing");
            now = next;
            wakes++;
        }
        // 300 kB at 2.5 Mbps: 0.96 s; the last burst starts one burst (2 packets, 6.4 ms) before.
        Assert.InRange(lastBurst, 950_000, 956_000);
        Assert.Equal(300_000, sentBytes);
        Assert.All(burstSizes, b => Assert.True(b <= 1562 + 1000, $"burst {b} bytes"));
        Assert.True(burstSizes.Average() >= 1562, $"bursts average {burstSizes.Average():0} bytes");
    }

    [Fact]
    public void Audio_IsNotHeldByTheBudget()
    {
        var p = new Pacer();
        p.SetTarget(100_000, 0);
        for (int i = 0; i < 10; i++)
            p.TryEnqueue(PacedPacketKind.Video, 1200, i, 0);
        Drain(p, 0); // spends the budget
        p.TryEnqueue(PacedPacketKind.Audio, 100, 99, 1000);
        Assert.Equal(1000, p.NextWakeMicros(1000));
        Assert.True(p.TryPoll(1000, out var a));
        Assert.Equal(99, a.Handle);
        Assert.False(p.TryPoll(1000, out _)); // video still waits
    }

    [Fact]
    public void Queue_IsBoundedInTime_AndExpiriesAreCounted()
    {
        var p = new Pacer();
        p.SetTarget(50_000, 0); // 125 kbps pacing: 1000 packets of 1200 B take 77 s
        for (int i = 0; i < 1000; i++)
            p.TryEnqueue(PacedPacketKind.Video, 1200, i, 0);
        int sent = 0, expired = 0;
        for (long now = 0; now <= 2_100_000; now += 1_000)
            foreach (var x in Drain(p, now))
                if (x.Expired) expired++; else sent++;
        Assert.True(sent is > 20 and < 40, $"{sent} sent in 2.1 s");
        Assert.Equal(1000 - sent, expired);
        Assert.Equal(expired, p.Expired);
        Assert.Equal(0, p.QueuedPackets);
    }

    [Fact]
    public void Probe_SendsAtItsRate_WithPaddingWhenNoMediaWaits()
    {
        var p = new Pacer();
        p.SetTarget(300_000, 0);
        Assert.True(p.StartProbe(new ProbeCluster(7, 2_000_000, 5, 6000)));
        p.TryEnqueue(PacedPacketKind.Video, 1000, 1, 0);
        var sent = new List<(long At, PacedPacket P)>();
        for (long now = 0; now < 100_000 && p.Probing; now += 500)
            foreach (var x in Drain(p, now))
                sent.Add((now, x));
        Assert.False(p.Probing);
        Assert.All(sent, s => Assert.Equal(7, s.P.ProbeClusterId));
        Assert.Equal(PacedPacketKind.Video, sent[0].P.Kind); // media first
        Assert.All(sent.Skip(1), s => Assert.Equal(PacedPacketKind.Padding, s.P.Kind));
        Assert.True(sent.Sum(s => s.P.Size) >= 6000 && sent.Count >= 5);
        // 6 kB at 2 Mbps is 24 ms; the last burst leaves within a burst's time of that.
        Assert.InRange(sent[^1].At, 15_000, 30_000);
        // After the probe, nothing is sent without media.
        Assert.Equal(long.MaxValue, p.NextWakeMicros(100_000));
    }

    [Fact]
    public void BadInput_IsCountedAndRefused()
    {
        var p = new Pacer(capacityPerKind: 2);
        Assert.False(p.TryEnqueue(PacedPacketKind.Video, 0, 1, 0));
        Assert.False(p.TryEnqueue(PacedPacketKind.Padding, 100, 1, 0));
        Assert.False(p.TryEnqueue((PacedPacketKind)42, 100, 1, 0));
        Assert.Equal(3, p.InvalidPackets);
        Assert.True(p.TryEnqueue(PacedPacketKind.Video, 100, 1, 0));
        Assert.True(p.TryEnqueue(PacedPacketKind.Video, 100, 2, 0));
        Assert.False(p.TryEnqueue(PacedPacketKind.Video, 100, 3, 0));
        Assert.Equal(1, p.DroppedFull);
    }

    [Fact]
    public void EnqueueAndPoll_AllocateNothing()
    {
        var p = new Pacer();
        p.SetTarget(2_000_000, 0);
        long now = 0;
        void Run(int packets)
        {
            for (int i = 0; i < packets; i++)
            {
                now += 300;
                p.TryEnqueue(i % 10 == 0 ? PacedPacketKind.Audio : i % 7 == 0 ? PacedPacketKind.Retransmission : PacedPacketKind.Video, 1100, i, now);
                if (i % 500 == 0) p.StartProbe(new ProbeCluster(i, 6_000_000, 5, 12_000));
                while (p.NextWakeMicros(now) <= now && p.TryPoll(now, out _)) { }
            }
        }
        Run(2000); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(20_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
