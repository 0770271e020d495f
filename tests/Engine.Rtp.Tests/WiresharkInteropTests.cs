using System.Buffers.Binary;
using System.Diagnostics;
using Engine.Rtp;
using Engine.Rtp.Rtcp;
using Xunit.Abstractions;

namespace Engine.Rtp.Tests;

/// <summary>
/// Packets our writers produce, dissected by an independent implementation: Wireshark's tshark
/// (RTP, RFC 8285 extensions, RTCP SR/RR/SDES/BYE/NACK/PLI/FIR/REMB/XR and transport-cc).
/// </summary>
public class WiresharkInteropTests(ITestOutputHelper output)
{
    private const int RtpPort = 5004;
    private const int RtcpPort = 5005;

    private static string? FindTshark() =>
        new[] { "/usr/bin/tshark", "/usr/local/bin/tshark" }.FirstOrDefault(File.Exists);

    /// <summary>Writes a classic pcap (raw IPv4 link type) with one UDP datagram per payload.</summary>
    private static void WritePcap(string path, IEnumerable<(int Port, byte[] Payload)> datagrams)
    {
        using var f = File.Create(path);
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xa1b2c3d4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 228); // LINKTYPE_IPV4
        f.Write(header);
        int second = 1;
        Span<byte> record = stackalloc byte[16];
        foreach (var (port, payload) in datagrams)
        {
            var ip = new byte[28 + payload.Length];
            ip[0] = 0x45; ip[8] = 64; ip[9] = 17;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
            ip[12] = 127; ip[15] = 1; ip[16] = 127; ip[19] = 1;
            int sum = 0;
            for (int i = 0; i < 20; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(i));
            while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), (ushort)~sum);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(20), (ushort)port);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(22), (ushort)port);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(24), (ushort)(8 + payload.Length));
            payload.CopyTo(ip, 28);
            record.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)second++);
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)ip.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)ip.Length);
            f.Write(record);
            f.Write(ip);
        }
    }

    private static string RunTshark(string tshark, string pcap, string arguments)
    {
        var psi = new ProcessStartInfo(tshark)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-n", "-r", pcap, "-d", $"udp.port=={RtpPort},rtp", "-d", $"udp.port=={RtcpPort},rtcp" })
            psi.ArgumentList.Add(a);
        foreach (var a in arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("tshark did not finish within 60 s");
        }
        Assert.True(p.ExitCode == 0, stderr.Result);
        return stdout.Result;
    }

    private const string Fields = "-T fields -E occurrence=a -E aggregator=, -E separator=|";

    private static byte[] Rtp(RtpPacket packet)
    {
        var b = new byte[packet.GetSerializedLength()];
        Assert.Equal(b.Length, packet.Write(b));
        return b;
    }

    private static byte[] Bytes(int length, Func<byte[], int> write)
    {
        var b = new byte[length];
        return b[..write(b)];
    }

    internal static List<(int Port, byte[] Payload)> RtpSamples()
    {
        var one = new RtpHeaderExtensionWriter(new byte[64], twoByte: false);
        one.TryAdd(1, [0x85]);
        one.TryAdd(2, [0x12, 0x34, 0x56]);
        one.TryAdd(3, [0xab, 0xcd]);
        one.TryAdd(4, "1"u8);
        var two = new RtpHeaderExtensionWriter(new byte[64], twoByte: true);
        two.TryAdd(1, [0x85]);
        two.TryAdd(200, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
        return
        [
            (RtpPort, Rtp(new RtpPacket { PayloadType = 111, SequenceNumber = 4242, Timestamp = 123456789, Ssrc = 0xdeadbeef, ExtensionProfile = one.Profile, ExtensionElements = one.Written.ToArray(), Payload = new byte[40] })),
            (RtpPort, Rtp(new RtpPacket { Marker = true, PayloadType = 102, SequenceNumber = 65535, Timestamp = 0xffffffff, Ssrc = 7, Csrcs = new uint[] { 0x11, 0x22, 0x33 }, ExtensionProfile = two.Profile, ExtensionElements = two.Written.ToArray(), Payload = new byte[10], PaddingLength = 6 })),
        ];
    }

    [Fact]
    public void Rtp_HeadersAndExtensions_AsWiresharkReadsThem()
    {
        var tshark = FindTshark();
        Assert.True(tshark != null, "tshark is missing: tests/run.sh installs it (Debian package tshark)");
        var path = Path.Combine(Path.GetTempPath(), $"rtp-interop-{Guid.NewGuid():N}.pcap");
        try
        {
            WritePcap(path, RtpSamples());
            var text = RunTshark(tshark!, path, Fields + " -e rtp.seq -e rtp.timestamp -e rtp.ssrc -e rtp.p_type -e rtp.marker -e rtp.csrc.item -e rtp.ext.profile -e rtp.ext.rfc5285.id -e rtp.ext.rfc5285.data -e rtp.padding");
            output.WriteLine(text);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.Equal("4242|123456789|0xdeadbeef|111|0||0xbede|1,2,3,4|85,123456,abcd,31|0", lines[0]);
            Assert.Equal("65535|4294967295|0x00000007|102|1|0x00000011,0x00000022,0x00000033|0x1000|1,200|85,0102030405060708090a0b0c0d0e0f1011121314|1", lines[1]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static List<(int Port, byte[] Payload)> RtcpSamples()
    {
        var b1 = new ReportBlock(0x1111, 64, -2, 0x0001_0005, 77, 0xaabbccdd, 131072);
        var b2 = new ReportBlock(0x2222, 0, 100, 9, 0, 0, 0);
        var compound = new byte[200];
        int n = new SenderReport { SenderSsrc = 0x5, NtpTimestamp = 0xe1234567_80000000, RtpTimestamp = 90000, PacketCount = 12, OctetCount = 3456, ReportBlocks = new[] { b1, b2 } }.Write(compound);
        n += new SourceDescription { Ssrc = 0x5, Cname = "user@example.com"u8 }.Write(compound.AsSpan(n));
        n += new Bye { Ssrcs = new uint[] { 0x5 }, Reason = "done"u8 }.Write(compound.AsSpan(n));
        return
        [
            (RtcpPort, compound[..n]),
            (RtcpPort, Bytes(64, b => new ReceiverReport { SenderSsrc = 0x6, ReportBlocks = new[] { b2 } }.Write(b))),
            (RtcpPort, Bytes(64, b => new GenericNack { SenderSsrc = 0x6, MediaSsrc = 0x7, LostSequenceNumbers = new ushort[] { 100, 101, 116, 117, 65535, 1 } }.Write(b))),
            (RtcpPort, Bytes(64, b => new Pli { SenderSsrc = 0x6, MediaSsrc = 0x7 }.Write(b))),
            (RtcpPort, Bytes(64, b => new Fir { SenderSsrc = 0x6, Entries = new[] { new FirEntry(0x7, 3) } }.Write(b))),
            (RtcpPort, Bytes(64, b => new Remb { SenderSsrc = 0x6, BitrateBps = 2_500_000_000, Ssrcs = new uint[] { 0x7, 0x8 } }.Write(b))),
            (RtcpPort, Bytes(64, b => new ExtendedReport { SenderSsrc = 0x6, HasRrtr = true, RrtrNtpTimestamp = 0xe1234567_80000000, Dlrr = new[] { new DlrrSubBlock(0x7, 0x45678000, 0x10000) } }.Write(b))),
        ];
    }

    [Fact]
    public void Rtcp_EveryType_AsWiresharkReadsIt()
    {
        var tshark = FindTshark();
        Assert.True(tshark != null, "tshark is missing: tests/run.sh installs it (Debian package tshark)");
        var path = Path.Combine(Path.GetTempPath(), $"rtcp-interop-{Guid.NewGuid():N}.pcap");
        try
        {
            WritePcap(path, RtcpSamples());
            var text = RunTshark(tshark!, path, Fields
                + " -e rtcp.pt -e rtcp.length_check -e rtcp.senderssrc -e rtcp.timestamp.ntp.msw -e rtcp.sender.octetcount"
                + " -e rtcp.ssrc.identifier -e rtcp.ssrc.fraction -e rtcp.ssrc.cum_nr -e rtcp.ssrc.ext_high -e rtcp.ssrc.dlsr -e rtcp.sdes.text"
                + " -e rtcp.rtpfb.nack_pid -e rtcp.rtpfb.nack_blp -e rtcp.psfb.fmt -e rtcp.psfb.fir.fci.ssrc -e rtcp.psfb.fir.fci.csn"
                + " -e rtcp.psfb.remb.fci.br_exp -e rtcp.psfb.remb.fci.br_mantissa -e rtcp.psfb.remb.fci.ssrc -e rtcp.xr.bt -e rtcp.xr.lrr -e rtcp.xr.dlrr");
            output.WriteLine(text);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(7, lines.Length);
            // Columns: pt | length ok | sender SSRC | NTP msw | octets | report SSRCs (also SDES/BYE SSRCs) | fraction | cumulative lost
            // | ext. highest seq | DLSR | SDES text (and BYE reason) | NACK PIDs as lost seqs (Wireshark adds BLP offsets without
            // wrapping: 65535 + 2 shows as 65537) | NACK BLPs | PSFB FMT | FIR SSRC | FIR seq | REMB exp | mantissa | REMB SSRCs | XR BTs | LRR | DLRR
            Assert.Equal("200,202,203|1|0x00000005|3777185127|3456|0x00001111,0x00002222,0x00000005,0x00000005|64,0|-2,100|65541,9|131072,0|user@example.com,done|||||||||||", lines[0]);
            Assert.Equal("201|1|0x00000006|||0x00002222|0|100|9|0||||||||||||", lines[1]);
            Assert.Equal("205|1|0x00000006|||||||||100,101,116,117,65535,65537|0x8001,0x0000,0x0002|||||||||", lines[2]);
            Assert.Equal("206|1|0x00000006|||||||||||1||||||||", lines[3]);
            Assert.Equal("206|1|0x00000006|||||||||||4|0x00000007|3||||||", lines[4]);
            Assert.Equal("206|1|0x00000006|||||||||||15|||14|152587|0x00000007,0x00000008|||", lines[5]);
            Assert.Equal("207|1|0x00000006|||0x00000007||||||||||||||4,5|1164410880|65536", lines[6]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Random receive streams (gaps, reordering, large and negative deltas) through our builder, split
    /// into packets of at most 200 bytes; Wireshark's reading of every recv delta must equal ours.
    /// </summary>
    [Fact]
    public void TransportFeedback_WiresharkReadsTheSameStatusesAndDeltas()
    {
        var tshark = FindTshark();
        Assert.True(tshark != null, "tshark is missing: tests/run.sh installs it (Debian package tshark)");
        var rng = new Random(5);
        var builder = new TransportFeedbackBuilder(capacity: 2048, maxPacketSize: 200);
        long seq = 65000, t = 10_000_000;
        for (int i = 0; i < 600; i++)
        {
            seq += rng.Next(8) == 0 ? rng.Next(2, 40) : 1;
            t += rng.Next(10) switch { 0 => rng.Next(-20_000, 0), 1 => rng.Next(70_000, 2_000_000), _ => rng.Next(0, 3000) };
            builder.AddReceivedPacket(seq, t);
        }
        var packets = new List<(int, byte[])>();
        var expected = new List<string>();
        int statuses = 0;
        while (builder.PendingCount > 0 && packets.Count < 1000)
        {
            var buffer = new byte[200];
            var bytes = buffer[..builder.Write(buffer, 1, 2)];
            packets.Add((RtcpPort, bytes));
            Assert.True(RtcpPacketView.TryRead(bytes, out var packet));
            Assert.True(TransportFeedbackView.TryRead(packet, out var view));
            statuses += view.PacketStatusCount;
            foreach (var s in view)
                if (s.HasDelta)
                    expected.Add($"{s.SequenceNumber} {s.DeltaTicks * 0.25:0.000000}");
        }
        Assert.True(packets.Count > 5);
        Assert.Equal(600, expected.Count); // every received packet reported once, with a delta
        var path = Path.Combine(Path.GetTempPath(), $"twcc-interop-{Guid.NewGuid():N}.pcap");
        try
        {
            WritePcap(path, packets);
            var text = RunTshark(tshark!, path, "-V -O rtcp");
            var seen = System.Text.RegularExpressions.Regex.Matches(text, @"\[seq: (\d+)\] (-?[\d.]+) ms")
                .Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value}").ToList();
            Assert.Equal(expected, seen);
            var counts = System.Text.RegularExpressions.Regex.Matches(text, @"Packet Status Count: (\d+)").Sum(m => int.Parse(m.Groups[1].Value));
            Assert.Equal(statuses, counts);
            Assert.Equal(packets.Count, System.Text.RegularExpressions.Regex.Matches(text, @"RTCP frame length check: OK").Count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
