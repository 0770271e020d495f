using Engine.Rtp;
using Engine.Rtp.Receive;
using Engine.Rtp.Rtcp;

namespace Engine.Rtp.Tests;

/// <summary>The per-packet paths allocate nothing: warm up once, then count bytes over many calls.</summary>
public class AllocationTests
{
    [Fact]
    public void ParsingEveryPacketKind_AllocatesNothing()
    {
        var seeds = RtpFuzzTests.Seeds().ToArray();
        long sum = 0;
        foreach (var seed in seeds)
            sum += RtpFuzzTests.ParseEverything(seed);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
            foreach (var seed in seeds)
                sum += RtpFuzzTests.ParseEverything(seed);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.NotEqual(0, sum);
    }

    [Fact]
    public void WritingEveryPacketKind_AllocatesNothing()
    {
        var buffer = new byte[1500];
        uint[] csrcs = [1, 2];
        ushort[] lost = [10, 12, 40];
        uint[] ssrcs = [7];
        var blocks = new[] { new ReportBlock(1, 2, 3, 4, 5, 6, 7) };
        var firs = new[] { new FirEntry(1, 2) };
        var dlrr = new[] { new DlrrSubBlock(1, 2, 3) };
        var payload = new byte[100];
        var builder = new TransportFeedbackBuilder();
        long total = WriteAll(buffer, csrcs, lost, ssrcs, blocks, firs, dlrr, payload, builder, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i <= 10_000; i++)
            total += WriteAll(buffer, csrcs, lost, ssrcs, blocks, firs, dlrr, payload, builder, i);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(total > 0);
    }

    private static long WriteAll(byte[] buffer, uint[] csrcs, ushort[] lost, uint[] ssrcs, ReportBlock[] blocks, FirEntry[] firs, DlrrSubBlock[] dlrr, byte[] payload, TransportFeedbackBuilder builder, int round)
    {
        Span<byte> elements = stackalloc byte[16];
        var ext = new RtpHeaderExtensionWriter(elements, false);
        Span<byte> value = stackalloc byte[3];
        AbsSendTime.FromMicros(round * 1000L).Write(value);
        ext.TryAdd(2, value);
        TransportSequenceNumber.Write(value, (ushort)round);
        ext.TryAdd(3, value[..2]);
        long n = new RtpPacket { PayloadType = 96, SequenceNumber = (ushort)round, Csrcs = csrcs, ExtensionProfile = ext.Profile, ExtensionElements = ext.Written, Payload = payload }.Write(buffer);
        n += new SenderReport { SenderSsrc = 1, ReportBlocks = blocks }.Write(buffer);
        n += new ReceiverReport { SenderSsrc = 1, ReportBlocks = blocks }.Write(buffer);
        n += new SourceDescription { Ssrc = 1, Cname = "cname"u8 }.Write(buffer);
        n += new Bye { Ssrcs = ssrcs, Reason = "x"u8 }.Write(buffer);
        n += new GenericNack { SenderSsrc = 1, MediaSsrc = 2, LostSequenceNumbers = lost }.Write(buffer);
        n += new Pli { SenderSsrc = 1, MediaSsrc = 2 }.Write(buffer);
        n += new Fir { SenderSsrc = 1, Entries = firs }.Write(buffer);
        n += new Remb { SenderSsrc = 1, BitrateBps = 2_000_000, Ssrcs = ssrcs }.Write(buffer);
        n += new ExtendedReport { SenderSsrc = 1, HasRrtr = true, RrtrNtpTimestamp = 1, Dlrr = dlrr }.Write(buffer);
        for (int k = 0; k < 50; k++)
            builder.AddReceivedPacket(round * 60L + k + (k % 7 == 0 ? 1 : 0), round * 50_000L + k * 900);
        while (builder.PendingCount > 0)
            n += builder.Write(buffer, 1, 2);
        return n;
    }

    [Fact]
    public void SenderClock_AllocatesNothing()
    {
        var clock = new SenderClock(90000);
        long sum = 0;
        void Run(int from, int count)
        {
            for (int i = from; i < from + count; i++)
            {
                long now = i * 33_333L;
                clock.OnPacket((uint)(i * 3000), now + 30_000);
                if (i % 30 == 0)
                    clock.OnSenderReport(SenderClock.MicrosToNtp(3_900_000_000_000_000 + now), (uint)(i * 3000), now + 30_000);
                if (clock.TryMapToNtpMicros((uint)(i * 3000), out long ntp))
                    sum += ntp;
            }
        }
        Run(0, 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(100, 100_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.NotEqual(0, sum);
        Assert.True(clock.ReportsAccepted > 3000);
    }

    [Fact]
    public void Unwrappers_AllocateNothing()
    {
        var seq = new SeqNoUnwrapper();
        var ts = new RtpTimestampUnwrapper();
        long sum = seq.Unwrap(0) + ts.Unwrap(0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100_000; i++)
            sum += seq.Unwrap((ushort)(i * 7)) + ts.Unwrap((uint)i * 3000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.NotEqual(0, sum);
    }
}
