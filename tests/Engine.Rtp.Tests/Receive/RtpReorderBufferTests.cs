using Engine.Rtp.Receive;

namespace Engine.Rtp.Tests.Receive;

public class RtpReorderBufferTests
{
    private static byte[] P(long seq) => new byte[] { (byte)seq, (byte)(seq >> 8), 0xAB };

    /// <summary>Inserts and drains like a session does; returns the delivered sequence numbers.</summary>
    private static List<long> Feed(RtpReorderBuffer b, long seq, long now, List<long>? into = null)
    {
        into ??= new List<long>();
        var r = b.Insert(seq, P(seq), now);
        if (r == ReorderResult.Deliver)
            into.Add(seq);
        Drain(b, now, into);
        return into;
    }

    private static void Drain(RtpReorderBuffer b, long now, List<long> into)
    {
        while (b.TryPop(now, out long s, out var bytes))
        {
            Assert.True(bytes.SequenceEqual(P(s)));
            into.Add(s);
        }
    }

    [Fact]
    public void InOrderPacketsPassStraightThrough()
    {
        var b = new RtpReorderBuffer();
        var got = new List<long>();
        for (long s = 100; s < 110; s++)
            Feed(b, s, s, got);
        Assert.Equal(Enumerable.Range(100, 10).Select(i => (long)i), got);
        Assert.Equal(0, b.Count);
    }

    [Fact]
    public void AReorderedPacketIsPutBackInPlace()
    {
        var b = new RtpReorderBuffer();
        var got = new List<long>();
        foreach (var s in new long[] { 1, 3, 4, 2, 5 })
            Feed(b, s, 0, got);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, got);
        Assert.Equal(0, b.SkippedPackets);
    }

    [Fact]
    public void AGapIsGivenUpAfterTheHoldTime()
    {
        var b = new RtpReorderBuffer(holdMicros: 100_000);
        var got = new List<long>();
        Feed(b, 1, 0, got);
        Feed(b, 3, 10_000, got);
        Feed(b, 4, 20_000, got);
        Assert.Equal(new long[] { 1 }, got);
        Assert.Equal(110_000, b.NextTimeoutMicros);
        Drain(b, 109_999, got);
        Assert.Equal(new long[] { 1 }, got);
        Drain(b, 110_000, got);
        Assert.Equal(new long[] { 1, 3, 4 }, got);
        Assert.Equal(1, b.SkippedPackets);
        Assert.Equal(ReorderResult.Late, b.Insert(2, P(2), 120_000)); // the NACK answer came too late
        Assert.Equal(long.MaxValue, b.NextTimeoutMicros);
    }

    [Fact]
    public void DuplicatesAndOversizedPacketsAreRefused()
    {
        var b = new RtpReorderBuffer();
        Assert.Equal(ReorderResult.Deliver, b.Insert(1, P(1), 0));
        Assert.Equal(ReorderResult.Buffered, b.Insert(3, P(3), 0));
        Assert.Equal(ReorderResult.Duplicate, b.Insert(3, P(3), 0));
        Assert.Equal(ReorderResult.Late, b.Insert(1, P(1), 0));
        Assert.Equal(ReorderResult.TooLarge, b.Insert(4, new byte[RtpReorderBuffer.MaxPacketBytes + 1], 0));
    }

    [Fact]
    public void AJumpPastTheWindowFlushesAndRestarts()
    {
        var b = new RtpReorderBuffer(capacity: 16);
        var got = new List<long>();
        Feed(b, 1, 0, got);
        Feed(b, 3, 0, got);
        Feed(b, 1000, 0, got);
        Feed(b, 1001, 0, got);
        Assert.Equal(new long[] { 1, 1000, 1001 }, got);
        Assert.Equal(1, b.FlushedPackets);
        Assert.Equal(0, b.Count);
    }

    /// <summary>As RtpReceiveStream feeds it: room is made for a packet past the window before it goes in.</summary>
    private static List<long> FeedMakingRoom(RtpReorderBuffer b, long seq, long now, List<long> into)
    {
        if (b.IsBeyondWindow(seq))
        {
            b.MakeRoomFor(seq);
            Drain(b, now, into);
        }
        return Feed(b, seq, now, into);
    }

    [Fact]
    public void MoreThanAWindowBehindAGap_TheGapIsGivenUpButNothingHeldIsLost()
    {
        // 1080p at 200 ms RTT: more packets arrive during the wait for a retransmission than the
        // window holds. The oldest gap goes; the packets held behind it go on, none is flushed.
        var b = new RtpReorderBuffer(capacity: 16, holdMicros: 1_000_000);
        var got = new List<long>();
        FeedMakingRoom(b, 0, 0, got);
        for (long s = 2; s <= 16; s++) // 1 lost: 2..16 held (15 of 16 slots)
            FeedMakingRoom(b, s, s, got);
        Assert.Equal(new long[] { 0 }, got);
        Assert.False(b.IsBeyondWindow(16));
        Assert.True(b.IsBeyondWindow(17)); // 17 - 1 > 15: its slot is 1's
        FeedMakingRoom(b, 17, 17, got);
        Assert.Equal(Enumerable.Range(0, 18).Where(i => i != 1).Select(i => (long)i), got);
        Assert.Equal(1, b.SkippedPackets);
        Assert.Equal(0, b.FlushedPackets);
        Assert.Equal(0, b.Count);
    }

    [Fact]
    public void MakingRoom_GivesUpOnlyTheGapsItMust_ALaterGapKeepsWaiting()
    {
        var b = new RtpReorderBuffer(capacity: 16, holdMicros: 1_000_000);
        var got = new List<long>();
        FeedMakingRoom(b, 0, 0, got);
        foreach (long s in new long[] { 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }) // 1 and 5 lost
            FeedMakingRoom(b, s, s, got);
        FeedMakingRoom(b, 17, 17, got); // room for 17: 1 goes, 2-4 come out, 5 still waits
        Assert.Equal(new long[] { 0, 2, 3, 4 }, got);
        Assert.Equal(1, b.SkippedPackets);
        Feed(b, 5, 18, got); // 5 came back in time: everything up to 17 goes on
        Assert.Equal(Enumerable.Range(0, 18).Where(i => i != 1).Select(i => (long)i), got);
        Assert.Equal(0, b.FlushedPackets);
    }

    [Fact]
    public void MakingRoomForAHugeJump_DeliversWhatIsHeld_ThenTheWindowBeforeTheJumpWaitsItsHold()
    {
        var b = new RtpReorderBuffer(capacity: 16, holdMicros: 100_000);
        var got = new List<long>();
        FeedMakingRoom(b, 1, 0, got);
        FeedMakingRoom(b, 3, 0, got);
        FeedMakingRoom(b, 1000, 0, got);
        FeedMakingRoom(b, 1001, 0, got);
        Assert.Equal(new long[] { 1, 3 }, got); // 3 was held: delivered, not flushed
        Drain(b, 100_000, got); // 985-999 may still be repaired, like any gap
        Assert.Equal(new long[] { 1, 3, 1000, 1001 }, got);
        Assert.Equal(0, b.FlushedPackets);
        Assert.Equal(1 + (999 - 4 + 1), b.SkippedPackets);
        Assert.Equal(0, b.Count);
    }

    [Fact]
    public void RandomReorderingDeliversEverySequenceNumberOnceInOrder()
    {
        var rng = new Random(21);
        var b = new RtpReorderBuffer(capacity: 64, holdMicros: 50_000);
        var order = Enumerable.Range(0, 5000).Select(i => (long)i).ToList();
        // Local shuffles of up to 10 positions, like a path with reordering. The very first packet
        // defines the start (nothing before it can be known), so the first ten stay in order.
        for (int i = 10; i + 10 < order.Count; i += 10)
        {
            var window = order.GetRange(i, 10).OrderBy(_ => rng.Next()).ToList();
            order.RemoveRange(i, 10);
            order.InsertRange(i, window);
        }
        var got = new List<long>();
        long now = 0;
        foreach (var s in order)
            Feed(b, s, now += 1000, got);
        Drain(b, long.MaxValue / 2, got);
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => (long)i), got);
    }

    [Fact]
    public void InsertAndPopAllocateNothing()
    {
        var b = new RtpReorderBuffer();
        var packet = new byte[1200];
        long now = 0, s = 3;
        b.Insert(0, packet, 0);
        b.Insert(2, packet, 0); // the first held packet allocates the arena, once
        b.Insert(1, packet, 0);
        while (b.TryPop(0, out _, out _)) { }
        // A first pass on its own: the JIT's tier-up (OSR) of this loop may allocate on the thread, the buffer may not.
        Cycle(b, packet, ref now, ref s, 2_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long popped = Cycle(b, packet, ref now, ref s, 10_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(popped > 9000);
    }

    private static long Cycle(RtpReorderBuffer b, byte[] packet, ref long now, ref long s, int rounds)
    {
        long popped = 0;
        for (int i = 0; i < rounds; i++, s += 2)
        {
            now += 1000;
            b.Insert(s + 1, packet, now); // ahead: held
            b.Insert(s, packet, now); // fills the gap
            while (b.TryPop(now, out _, out _)) popped++;
        }
        return popped;
    }
}
