using Engine.Rtp;
using Engine.Rtp.Rtcp;
using FsCheck;
using FsCheck.Fluent;

namespace Engine.Rtp.Tests;

/// <summary>
/// Every parser fed random, truncated, oversized and mutated input must answer false or a view,
/// never throw. Spans bound-check every access, so "never throws" also means "never reads out of bounds".
/// </summary>
public class RtpFuzzTests
{
    /// <summary>Parses as RTP and as RTCP with every view and walks every enumerator; returns a checksum so nothing is optimised away.</summary>
    internal static long ParseEverything(ReadOnlySpan<byte> data)
    {
        long sum = 0;
        if (RtpPacketView.TryRead(data, out var rtp))
        {
            sum += rtp.SequenceNumber + rtp.Payload.Length + rtp.PaddingLength + rtp.ExtensionProfile;
            for (int i = 0; i < rtp.CsrcCount; i++)
                sum += rtp.GetCsrc(i);
            foreach (var e in rtp.Extensions)
            {
                sum += e.Id + e.Data.Length;
                if (AbsSendTime.TryRead(e.Data, out var ast)) sum += ast.Value;
                if (TransportSequenceNumber.TryRead(e.Data, out ushort tsn)) sum += tsn;
                if (AudioLevel.TryRead(e.Data, out var level)) sum += level.LevelDbov;
                if (PlayoutDelay.TryRead(e.Data, out var delay)) sum += delay.Max10Ms;
            }
        }
        if (RtcpCompound.TryRead(data, out var compound))
        {
            foreach (var packet in compound)
                sum += ParseRtcpPacket(packet);
        }
        if (RtcpPacketView.TryRead(data, out var single, out _))
            sum += ParseRtcpPacket(single);
        return sum;
    }

    private static long ParseRtcpPacket(RtcpPacketView packet)
    {
        long sum = (long)packet.PacketType;
        if (SenderReportView.TryRead(packet, out var sr))
        {
            sum += sr.NtpTimestamp.GetHashCode() + sr.PacketCount;
            for (int i = 0; i < sr.ReportCount; i++) sum += sr.GetReportBlock(i).CumulativeLost;
        }
        if (ReceiverReportView.TryRead(packet, out var rr))
            for (int i = 0; i < rr.ReportCount; i++) sum += rr.GetReportBlock(i).Jitter;
        if (SdesView.TryRead(packet, out var sdes))
            foreach (var item in sdes) sum += item.Type + item.Text.Length;
        if (ByeView.TryRead(packet, out var bye))
        {
            for (int i = 0; i < bye.SourceCount; i++) sum += bye.GetSsrc(i);
            sum += bye.Reason.Length;
        }
        if (GenericNackView.TryRead(packet, out var nack))
            foreach (ushort s in nack.LostSequenceNumbers) sum += s;
        if (PliView.TryRead(packet, out var pli)) sum += pli.MediaSsrc;
        if (FirView.TryRead(packet, out var fir))
            for (int i = 0; i < fir.EntryCount; i++) sum += fir.GetEntry(i).SequenceNumber;
        if (RembView.TryRead(packet, out var remb))
        {
            sum += (long)(remb.BitrateBps & 0xffff);
            for (int i = 0; i < remb.SsrcCount; i++) sum += remb.GetSsrc(i);
        }
        if (TransportFeedbackView.TryRead(packet, out var tf))
            foreach (var s in tf) sum += s.DeltaTicks + s.SequenceNumber;
        if (ExtendedReportView.TryRead(packet, out var xr))
        {
            if (xr.TryGetRrtr(out ulong ntp)) sum += (long)(ntp & 0xffff);
            foreach (var d in xr.DlrrSubBlocks) sum += d.Ssrc;
        }
        return sum;
    }

    /// <summary>Valid packets of every kind, to truncate and mutate.</summary>
    internal static List<byte[]> Seeds()
    {
        var seeds = new List<byte[]>();
        byte[] Make(int length, Func<byte[], int> write)
        {
            var b = new byte[length];
            Assert.Equal(length, write(b));
            return b;
        }
        Span<byte> elementBuffer = stackalloc byte[64];
        var ext = new RtpHeaderExtensionWriter(elementBuffer, false);
        ext.TryAdd(1, [0x85]); ext.TryAdd(2, [1, 2, 3]); ext.TryAdd(3, [0, 9]); ext.TryAdd(4, "0"u8);
        var elements = ext.Written.ToArray();
        var rtp = new RtpPacket { PayloadType = 111, SequenceNumber = 9, Csrcs = new uint[] { 1, 2 }, ExtensionProfile = 0xBEDE, ExtensionElements = elements, Payload = new byte[20], PaddingLength = 4 };
        var rtpBytes = new byte[rtp.GetSerializedLength()];
        rtp.Write(rtpBytes);
        seeds.Add(rtpBytes);
        var ext2 = new RtpHeaderExtensionWriter(elementBuffer, true);
        ext2.TryAdd(200, "abc"u8); ext2.TryAdd(1, []);
        var rtp2 = new RtpPacket { PayloadType = 96, ExtensionProfile = 0x1000, ExtensionElements = ext2.Written.ToArray(), Payload = new byte[3] };
        var rtp2Bytes = new byte[rtp2.GetSerializedLength()];
        rtp2.Write(rtp2Bytes);
        seeds.Add(rtp2Bytes);

        var block = new ReportBlock(1, 2, 3, 4, 5, 6, 7);
        var compound = new byte[512];
        int n = new SenderReport { SenderSsrc = 1, ReportBlocks = new[] { block, block } }.Write(compound);
        n += new SourceDescription { Ssrc = 1, Cname = "hello-world"u8 }.Write(compound.AsSpan(n));
        n += new Bye { Ssrcs = new uint[] { 1, 2 }, Reason = "bye"u8 }.Write(compound.AsSpan(n));
        seeds.Add(compound[..n]);
        seeds.Add(Make(32, b => new ReceiverReport { SenderSsrc = 1, ReportBlocks = new[] { block } }.Write(b)));
        seeds.Add(Make(20, b => new GenericNack { SenderSsrc = 1, MediaSsrc = 2, LostSequenceNumbers = new ushort[] { 1, 5, 40 } }.Write(b)));
        seeds.Add(Make(12, b => new Pli { SenderSsrc = 1, MediaSsrc = 2 }.Write(b)));
        seeds.Add(Make(20, b => new Fir { SenderSsrc = 1, Entries = new[] { new FirEntry(3, 4) } }.Write(b)));
        seeds.Add(Make(24, b => new Remb { SenderSsrc = 1, BitrateBps = 1_000_000, Ssrcs = new uint[] { 5 } }.Write(b)));
        seeds.Add(Make(36, b => new ExtendedReport { SenderSsrc = 1, HasRrtr = true, RrtrNtpTimestamp = 5, Dlrr = new[] { new DlrrSubBlock(1, 2, 3) } }.Write(b)));
        var builder = new TransportFeedbackBuilder();
        for (int i = 0; i < 40; i++)
            builder.AddReceivedPacket(i * (i % 3 == 0 ? 2 : 1), i * (i % 5 == 0 ? 80_000 : 1000));
        var tf = new byte[1200];
        seeds.Add(tf[..builder.Write(tf, 1, 2)]);
        return seeds;
    }

    [Fact]
    public void Seeds_AreAllValid()
    {
        foreach (var seed in Seeds())
            Assert.NotEqual(0, ParseEverything(seed));
    }

    [Fact]
    public void EveryTruncation_OfEverySeed_IsHandled()
    {
        foreach (var seed in Seeds())
            for (int length = 0; length <= seed.Length; length++)
            {
                ParseEverything(seed.AsSpan(0, length));
                ParseEverything(seed.AsSpan(seed.Length - length)); // missing front
            }
    }

    [Fact]
    public void Truncations_AreRejected_UnlessTheyEndOnAPacketBoundary()
    {
        foreach (var seed in Seeds())
        {
            if (seed[1] is >= 192 and <= 223)
            {
                var boundaries = new HashSet<int>();
                Assert.True(RtcpCompound.TryRead(seed, out var compound));
                int end = 0;
                foreach (var packet in compound)
                    boundaries.Add(end += packet.Packet.Length);
                for (int length = 0; length < seed.Length; length++)
                    Assert.Equal(boundaries.Contains(length), RtcpCompound.TryRead(seed.AsSpan(0, length), out _));
            }
            else
            {
                Assert.True(RtpPacketView.TryRead(seed, out var rtp));
                for (int length = 0; length < rtp.HeaderLength; length++)
                    Assert.False(RtpPacketView.TryRead(seed.AsSpan(0, length), out _));
            }
        }
    }

    /// <summary>A packet whose count field promises more than its length holds must fail its view.</summary>
    [Fact]
    public void CountsBeyondTheBody_AreRejectedByEachView()
    {
        static RtcpPacketView Packet(byte[] b)
        {
            Assert.True(RtcpPacketView.TryRead(b, out var p));
            return p;
        }
        // SR claiming 2 report blocks with room for 1; RR claiming 1 with room for 0.
        var sr = new byte[52];
        new SenderReport { ReportBlocks = new[] { new ReportBlock(1, 2, 3, 4, 5, 6, 7) } }.Write(sr);
        sr[0] = 0x82;
        Assert.False(SenderReportView.TryRead(Packet(sr), out _));
        Assert.False(ReceiverReportView.TryRead(Packet([0x81, 201, 0, 1, 0, 0, 0, 1]), out _));
        // SDES whose item length runs past the packet, and one with no END octet.
        Assert.False(SdesView.TryRead(Packet([0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, 65, 66]), out _));
        Assert.False(SdesView.TryRead(Packet([0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 65, 66]), out _));
        // BYE with 2 sources but room for 1, and a reason longer than the packet.
        Assert.False(ByeView.TryRead(Packet([0x82, 203, 0, 1, 0, 0, 0, 1]), out _));
        Assert.False(ByeView.TryRead(Packet([0x81, 203, 0, 2, 0, 0, 0, 1, 9, 65, 66, 67]), out _));
        // NACK without FCI, FIR with a partial entry, REMB listing more SSRCs than present.
        Assert.False(GenericNackView.TryRead(Packet([0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]), out _));
        Assert.False(FirView.TryRead(Packet([0x84, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5]), out _));
        Assert.False(RembView.TryRead(Packet([0x8f, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 82, 69, 77, 66, 1, 0, 0, 1]), out _));
        // XR whose block length runs past the packet, and an RRTR of the wrong size.
        Assert.False(ExtendedReportView.TryRead(Packet([0x80, 207, 0, 2, 0, 0, 0, 1, 5, 0, 0, 3]), out _));
        Assert.False(ExtendedReportView.TryRead(Packet([0x80, 207, 0, 3, 0, 0, 0, 1, 4, 0, 0, 1, 0, 0, 0, 0]), out _));
    }

    [Fact]
    public void OversizedInput_IsHandled()
    {
        var rng = new Random(99);
        foreach (var seed in Seeds())
            for (int extra = 1; extra < 70; extra++)
            {
                var bigger = new byte[seed.Length + extra];
                seed.CopyTo(bigger, 0);
                rng.NextBytes(bigger.AsSpan(seed.Length));
                ParseEverything(bigger);
                // And a compound whose last packet claims more bytes than there are.
                var lying = (byte[])seed.Clone();
                lying[2] = 0xff;
                ParseEverything(lying);
            }
    }

    [Fact]
    public void RandomMutations_OfEverySeed_AreHandled()
    {
        var rng = new Random(2024);
        var seeds = Seeds();
        for (int i = 0; i < 100_000; i++)
        {
            var bytes = (byte[])seeds[i % seeds.Count].Clone();
            for (int flips = rng.Next(1, 4); flips > 0; flips--)
                bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            ParseEverything(bytes);
        }
    }

    [Fact]
    public void RandomBytes_AreHandled()
    {
        var rng = new Random(31337);
        var buffer = new byte[300];
        for (int i = 0; i < 100_000; i++)
        {
            int length = rng.Next(buffer.Length);
            rng.NextBytes(buffer.AsSpan(0, length));
            if (rng.Next(2) == 0 && length > 0)
                buffer[0] = (byte)(0x80 | (buffer[0] & 0x3f)); // version 2 to get past the first check
            ParseEverything(buffer.AsSpan(0, length));
        }
    }

    [Fact]
    public void FsCheck_ArbitraryBytesNeverThrow()
    {
        Prop.ForAll<byte[]>(bytes =>
        {
            ParseEverything(bytes);
            if (bytes.Length > 0)
            {
                bytes[0] = (byte)(0x80 | (bytes[0] & 0x3f));
                ParseEverything(bytes);
            }
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(5000));
    }

    [Fact]
    public void ForgedTransportFeedback_CannotClaimMoreDeltasThanBytes()
    {
        // Status count 0xffff with a run of 8191 "small delta" symbols and no deltas: must be rejected, not walked past the end.
        byte[] bytes = [0x8f, 205, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0x3f, 0xff, 0, 0];
        Assert.True(RtcpPacketView.TryRead(bytes, out var p));
        Assert.False(TransportFeedbackView.TryRead(p, out _));
    }
}
