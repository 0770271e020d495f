using System.Text;
using Engine.Rtp.Rtcp;

namespace Engine.Rtp.Tests.Rtcp;

public class RtcpRoundTripTests
{
    private static readonly ReportBlock Block1 = new(0x11223344, 25, -3, 0x0001_ffff, 1234, 0xaabbccdd, 65536);
    private static readonly ReportBlock Block2 = new(0x55667788, 255, 0x7fffff, 42, 0, 0, 0);

    private static RtcpPacketView ReadSingle(byte[] bytes)
    {
        Assert.True(RtcpPacketView.TryRead(bytes, out var packet));
        return packet;
    }

    private static void AssertBlock(ReportBlock expected, ReportBlock actual)
    {
        Assert.Equal(expected.Ssrc, actual.Ssrc);
        Assert.Equal(expected.FractionLost, actual.FractionLost);
        Assert.Equal(expected.CumulativeLost, actual.CumulativeLost);
        Assert.Equal(expected.ExtendedHighestSequenceNumber, actual.ExtendedHighestSequenceNumber);
        Assert.Equal(expected.Jitter, actual.Jitter);
        Assert.Equal(expected.LastSenderReport, actual.LastSenderReport);
        Assert.Equal(expected.DelaySinceLastSenderReport, actual.DelaySinceLastSenderReport);
    }

    [Fact]
    public void SenderReport()
    {
        ReportBlock[] blocks = [Block1, Block2];
        var sr = new SenderReport { SenderSsrc = 7, NtpTimestamp = 0xe000_0001_8000_0000, RtpTimestamp = 90000, PacketCount = 10, OctetCount = 12000, ReportBlocks = blocks };
        var bytes = new byte[sr.GetSerializedLength()];
        Assert.Equal(76, sr.Write(bytes));
        Assert.Equal(0x82, bytes[0]);
        Assert.Equal(200, bytes[1]);
        Assert.Equal(18, bytes[3]); // (76 / 4) - 1
        Assert.True(SenderReportView.TryRead(ReadSingle(bytes), out var v));
        Assert.Equal(7u, v.SenderSsrc);
        Assert.Equal(0xe000_0001_8000_0000, v.NtpTimestamp);
        Assert.Equal(90000u, v.RtpTimestamp);
        Assert.Equal(10u, v.PacketCount);
        Assert.Equal(12000u, v.OctetCount);
        Assert.Equal(2, v.ReportCount);
        AssertBlock(Block1, v.GetReportBlock(0));
        AssertBlock(Block2, v.GetReportBlock(1));
        Assert.False(ReceiverReportView.TryRead(ReadSingle(bytes), out _));
    }

    [Fact]
    public void ReceiverReport_WithAndWithoutBlocks()
    {
        ReportBlock[] blocks = [Block2];
        var rr = new ReceiverReport { SenderSsrc = 9, ReportBlocks = blocks };
        var bytes = new byte[rr.GetSerializedLength()];
        Assert.Equal(32, rr.Write(bytes));
        Assert.True(ReceiverReportView.TryRead(ReadSingle(bytes), out var v));
        Assert.Equal(9u, v.SenderSsrc);
        Assert.Equal(1, v.ReportCount);
        AssertBlock(Block2, v.GetReportBlock(0));

        var empty = new ReceiverReport { SenderSsrc = 1 };
        bytes = new byte[empty.GetSerializedLength()];
        Assert.Equal(8, empty.Write(bytes));
        Assert.True(ReceiverReportView.TryRead(ReadSingle(bytes), out v));
        Assert.Equal(0, v.ReportCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("ab")]
    [InlineData("abcdefghij0123456")]
    public void SdesCname_PadsWithAtLeastOneNullOctet(string cname)
    {
        var sdes = new SourceDescription { Ssrc = 0x01020304, Cname = Encoding.ASCII.GetBytes(cname) };
        var bytes = new byte[sdes.GetSerializedLength()];
        Assert.Equal(bytes.Length, sdes.Write(bytes));
        Assert.Equal(0, bytes.Length % 4);
        Assert.Equal(0, bytes[^1]);
        Assert.True(SdesView.TryRead(ReadSingle(bytes), out var v));
        Assert.True(v.TryGetCname(out uint ssrc, out var text));
        Assert.Equal(0x01020304u, ssrc);
        Assert.Equal(cname, Encoding.ASCII.GetString(text));
    }

    [Fact]
    public void Sdes_MultipleChunksAndItems()
    {
        // RFC 3550 §6.5: two chunks; the first has CNAME and NAME, the second only a CNAME.
        byte[] bytes = [0x82, 202, 0, 7,
            0, 0, 0, 1, 1, 2, (byte)'h', (byte)'i', 2, 3, (byte)'b', (byte)'o', (byte)'b', 0, 0, 0,
            0, 0, 0, 2, 1, 3, (byte)'x', (byte)'y', (byte)'z', 0, 0, 0];
        Assert.True(SdesView.TryRead(ReadSingle(bytes), out var v));
        var items = new List<(uint, byte, string)>();
        foreach (var item in v)
            items.Add((item.Ssrc, item.Type, Encoding.ASCII.GetString(item.Text)));
        Assert.Equal([(1u, (byte)1, "hi"), (1u, (byte)2, "bob"), (2u, (byte)1, "xyz")], items);
    }

    [Fact]
    public void Bye_WithAndWithoutReason()
    {
        uint[] ssrcs = [1, 2, 3];
        var bye = new Bye { Ssrcs = ssrcs, Reason = "going"u8 };
        var bytes = new byte[bye.GetSerializedLength()];
        Assert.Equal(4 + 12 + 8, bye.Write(bytes));
        Assert.True(ByeView.TryRead(ReadSingle(bytes), out var v));
        Assert.Equal(3, v.SourceCount);
        Assert.Equal(3u, v.GetSsrc(2));
        Assert.Equal("going", Encoding.ASCII.GetString(v.Reason));

        bye = new Bye { Ssrcs = ssrcs[..1] };
        bytes = new byte[bye.GetSerializedLength()];
        Assert.Equal(8, bye.Write(bytes));
        Assert.True(ByeView.TryRead(ReadSingle(bytes), out v));
        Assert.Equal(1u, v.GetSsrc(0));
        Assert.True(v.Reason.IsEmpty);
    }

    [Fact]
    public void GenericNack_PacksPidAndBlp()
    {
        ushort[] lost = [100, 101, 116, 117, 200, 65535, 0, 1];
        var nack = new GenericNack { SenderSsrc = 1, MediaSsrc = 2, LostSequenceNumbers = lost };
        var bytes = new byte[nack.GetSerializedLength()];
        Assert.Equal(12 + 4 * 4, nack.Write(bytes));
        Assert.True(GenericNackView.TryRead(ReadSingle(bytes), out var v));
        Assert.Equal(1u, v.SenderSsrc);
        Assert.Equal(2u, v.MediaSsrc);
        Assert.Equal(4, v.ItemCount);
        // 100 covers 101 (bit 0) and 116 (bit 15); 117 starts a new item.
        Assert.Equal(100, v.GetPacketId(0));
        Assert.Equal(0x8001, v.GetBitmaskOfLostPackets(0));
        Assert.Equal(117, v.GetPacketId(1));
        Assert.Equal(0, v.GetBitmaskOfLostPackets(1));
        Assert.Equal(65535, v.GetPacketId(3));
        Assert.Equal(0b11, v.GetBitmaskOfLostPackets(3));
        var back = new List<ushort>();
        foreach (ushort s in v.LostSequenceNumbers)
            back.Add(s);
        Assert.Equal(lost, back);
    }

    [Fact]
    public void GenericNack_RandomSetsRoundTrip()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            int start = rng.Next(65536);
            var lost = new List<ushort>();
            int at = start;
            for (int i = rng.Next(1, 60); i > 0; i--)
            {
                at += rng.Next(1, 40);
                lost.Add((ushort)at);
            }
            var nack = new GenericNack { SenderSsrc = 5, MediaSsrc = 6, LostSequenceNumbers = lost.ToArray() };
            var bytes = new byte[nack.GetSerializedLength()];
            Assert.Equal(bytes.Length, nack.Write(bytes));
            Assert.True(GenericNackView.TryRead(ReadSingle(bytes), out var v));
            var back = new List<ushort>();
            foreach (ushort s in v.LostSequenceNumbers)
                back.Add(s);
            Assert.Equal(lost, back);
        }
    }

    [Fact]
    public void Pli()
    {
        var pli = new Pli { SenderSsrc = 0xa, MediaSsrc = 0xb };
        var bytes = new byte[pli.GetSerializedLength()];
        Assert.Equal(12, pli.Write(bytes));
        Assert.Equal([0x81, 206, 0, 2, 0, 0, 0, 0xa, 0, 0, 0, 0xb], bytes);
        Assert.True(PliView.TryRead(ReadSingle(bytes), out var v));
        Assert.Equal(0xau, v.SenderSsrc);
        Assert.Equal(0xbu, v.MediaSsrc);
        Assert.False(FirView.TryRead(ReadSingle(bytes), out _));
        Assert.False(GenericNackView.TryRead(ReadSingle(bytes), out _));
    }

    [Fact]
    public void Fir()
    {
        FirEntry[] entries = [new(0x1111, 7), new(0x2222, 255)];
        var fir = new Fir { SenderSsrc = 3, Entries = entries };
        var bytes = new byte[fir.GetSerializedLength()];
        Assert.Equal(28, fir.Write(bytes));
        Assert.Equal(0x84, bytes[0]);
        Assert.True(FirView.TryRead(ReadSingle(bytes), out var v));
        Assert.Equal(3u, v.SenderSsrc);
        Assert.Equal(2, v.EntryCount);
        Assert.Equal(0x2222u, v.GetEntry(1).Ssrc);
        Assert.Equal(255, v.GetEntry(1).SequenceNumber);
        Assert.Equal(7, v.GetEntry(0).SequenceNumber);
    }

    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(262143UL, 262143UL)]           // fits the 18-bit mantissa exactly
    [InlineData(1_000_000UL, 1_000_000UL)]     // 250000 << 2, exact
    [InlineData(2_500_000_000UL, 2_499_985_408UL)] // 152587 << 14: mantissa truncated to 18 bits
    public void Remb(ulong bitrate, ulong expected)
    {
        uint[] ssrcs = [0x1234, 0x5678];
        var remb = new Remb { SenderSsrc = 1, BitrateBps = bitrate, Ssrcs = ssrcs };
        var bytes = new byte[remb.GetSerializedLength()];
        Assert.Equal(28, remb.Write(bytes));
        Assert.Equal("REMB", Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.True(RembView.TryRead(ReadSingle(bytes), out var v));
        Assert.Equal(expected, v.BitrateBps);
        Assert.Equal(2, v.SsrcCount);
        Assert.Equal(0x5678u, v.GetSsrc(1));
    }

    [Fact]
    public void Remb_HandComputed()
    {
        // draft-alvestrand-rmcat-remb-03 §2.2: BR Exp 3, mantissa 0x3ffff -> 0x3ffff << 3 bps.
        byte[] bytes = [0x8f, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, (byte)'R', (byte)'E', (byte)'M', (byte)'B', 0, (3 << 2) | 3, 0xff, 0xff];
        Assert.True(RembView.TryRead(ReadSingle(bytes), out var v));
        Assert.Equal(0x3ffffUL << 3, v.BitrateBps);
        Assert.Equal(0, v.SsrcCount);
        bytes[12] = (byte)'X';
        Assert.False(RembView.TryRead(ReadSingle(bytes), out _));
    }

    [Fact]
    public void ExtendedReport_RrtrAndDlrr()
    {
        DlrrSubBlock[] dlrr = [new(1, 0x11111111, 0x2222), new(2, 0x33333333, 0x4444)];
        var xr = new ExtendedReport { SenderSsrc = 0x77, HasRrtr = true, RrtrNtpTimestamp = 0x0102030405060708, Dlrr = dlrr };
        var bytes = new byte[xr.GetSerializedLength()];
        Assert.Equal(8 + 12 + 4 + 24, xr.Write(bytes));
        Assert.True(ExtendedReportView.TryRead(ReadSingle(bytes), out var v));
        Assert.Equal(0x77u, v.SenderSsrc);
        Assert.True(v.TryGetRrtr(out ulong ntp));
        Assert.Equal(0x0102030405060708UL, ntp);
        var subs = new List<(uint, uint, uint)>();
        foreach (var s in v.DlrrSubBlocks)
            subs.Add((s.Ssrc, s.LastReceiverReport, s.DelaySinceLastReceiverReport));
        Assert.Equal([(1u, 0x11111111u, 0x2222u), (2u, 0x33333333u, 0x4444u)], subs);
    }

    [Fact]
    public void ExtendedReport_SkipsUnknownBlocks()
    {
        // An unknown block type 42 of one word, then a DLRR with one sub-block.
        byte[] bytes = [0x80, 207, 0, 7, 0, 0, 0, 9, 42, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 5, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7];
        Assert.True(ExtendedReportView.TryRead(ReadSingle(bytes), out var v));
        Assert.False(v.TryGetRrtr(out _));
        int n = 0;
        foreach (var s in v.DlrrSubBlocks)
        {
            Assert.Equal(5u, s.Ssrc);
            Assert.Equal(7u, s.DelaySinceLastReceiverReport);
            n++;
        }
        Assert.Equal(1, n);
    }

    [Fact]
    public void Compound_SrSdesBye_EnumeratesInOrder_AndSkipsUnknownTypes()
    {
        var buffer = new byte[256];
        int n = new SenderReport { SenderSsrc = 1, ReportBlocks = new[] { Block1 } }.Write(buffer);
        n += new SourceDescription { Ssrc = 1, Cname = "cname"u8 }.Write(buffer.AsSpan(n));
        // An APP packet (RFC 3550 §6.7) and an unassigned type 210: both must be passed over.
        byte[] app = [0x80, 204, 0, 2, 0, 0, 0, 1, (byte)'t', (byte)'e', (byte)'s', (byte)'t'];
        app.CopyTo(buffer, n); n += app.Length;
        byte[] unknown = [0x80, 210, 0, 0];
        unknown.CopyTo(buffer, n); n += unknown.Length;
        n += new Bye { Ssrcs = new uint[] { 1 } }.Write(buffer.AsSpan(n));

        Assert.True(RtcpCompound.TryRead(buffer.AsSpan(0, n), out var compound));
        Assert.Equal(5, compound.PacketCount);
        Assert.False(compound.IsReducedSize);
        var types = new List<byte>();
        foreach (var packet in compound)
            types.Add((byte)packet.PacketType);
        Assert.Equal([200, 202, 204, 210, 203], types);
        Assert.False(RtcpCompound.TryRead(buffer.AsSpan(0, n - 1), out _));
        Assert.False(RtcpCompound.TryRead(buffer.AsSpan(0, n + 4), out _)); // trailing zero word is not version 2
    }

    [Fact]
    public void ReducedSize_SinglePli()
    {
        var bytes = new byte[12];
        new Pli { SenderSsrc = 1, MediaSsrc = 2 }.Write(bytes);
        Assert.True(RtcpCompound.TryRead(bytes, out var compound));
        Assert.True(compound.IsReducedSize);
        Assert.Equal(1, compound.PacketCount);
    }

    [Fact]
    public void Padding_IsStrippedFromTheBody()
    {
        // RR with no blocks plus 4 bytes of padding (RFC 3550 §6.4.1 P bit).
        byte[] bytes = [0xa0, 201, 0, 2, 0, 0, 0, 5, 0, 0, 0, 4];
        Assert.True(RtcpPacketView.TryRead(bytes, out var packet));
        Assert.Equal(4, packet.Body.Length);
        Assert.True(ReceiverReportView.TryRead(packet, out var rr));
        Assert.Equal(5u, rr.SenderSsrc);
        bytes[^1] = 9; // more padding than body
        Assert.False(RtcpPacketView.TryRead(bytes, out _));
        bytes[^1] = 0;
        Assert.False(RtcpPacketView.TryRead(bytes, out _));
    }

    [Fact]
    public void Writers_RefuseTooSmallDestinations()
    {
        Assert.Equal(0, new Pli().Write(new byte[11]));
        Assert.Equal(0, new ReceiverReport { ReportBlocks = new[] { Block1 } }.Write(new byte[31]));
        Assert.Equal(0, new SourceDescription { Cname = "abc"u8 }.Write(new byte[11]));
        Assert.Equal(0, new Remb().Write(new byte[19]));
        Assert.Equal(0, new ExtendedReport { HasRrtr = true }.Write(new byte[19]));
    }
}
