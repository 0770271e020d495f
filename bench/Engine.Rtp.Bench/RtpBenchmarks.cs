using BenchmarkDotNet.Attributes;
using Engine.Rtp;
using Engine.Rtp.Rtcp;

namespace Engine.Rtp.Bench;

/// <summary>Per-packet parse and build costs of the RTP/RTCP wire formats; every method should allocate 0 B.</summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 8)]
public class RtpBenchmarks
{
    private byte[] _rtp = [];
    private byte[] _srSdes = [];
    private byte[] _rrTransportCc = [];
    private readonly byte[] _output = new byte[1500];
    private readonly TransportFeedbackBuilder _builder = new();
    private readonly RtpHeaderExtensionMap _map = new();
    private long _round;

    [GlobalSetup]
    public void Setup()
    {
        // A video packet shaped like Chromium's: abs-send-time, transport-cc, mid (ids from chromium156-offer.sdp).
        _map.Register(2, RtpExtensionUris.AbsSendTime);
        _map.Register(3, RtpExtensionUris.TransportSequenceNumber);
        _map.Register(4, RtpExtensionUris.Mid);
        var elements = new byte[32];
        var ext = new RtpHeaderExtensionWriter(elements, twoByte: false);
        ext.TryAdd(2, [0x12, 0x34, 0x56]);
        ext.TryAdd(3, [0x01, 0x02]);
        ext.TryAdd(4, "1"u8);
        var rtp = new RtpPacket { PayloadType = 102, SequenceNumber = 1000, Timestamp = 90000, Ssrc = 0x1234, ExtensionProfile = ext.Profile, ExtensionElements = ext.Written, Payload = new byte[1100] };
        _rtp = new byte[rtp.GetSerializedLength()];
        rtp.Write(_rtp);

        var buffer = new byte[1500];
        int n = new SenderReport { SenderSsrc = 1, NtpTimestamp = 0xe0000000_00000000, RtpTimestamp = 90000, PacketCount = 100, OctetCount = 100_000 }.Write(buffer);
        n += new SourceDescription { Ssrc = 1, Cname = "QmFzZTY0IGNuYW1lIQ=="u8 }.Write(buffer.AsSpan(n));
        _srSdes = buffer[..n];

        var block = new ReportBlock(0x1234, 3, 10, 70_000, 20, 0x1234_5678, 6553);
        n = new ReceiverReport { SenderSsrc = 1, ReportBlocks = new[] { block } }.Write(buffer);
        var feedback = new TransportFeedbackBuilder();
        for (int i = 0; i < 50; i++)
            feedback.AddReceivedPacket(i + (i > 30 ? 2 : 0), i * 2_000 + (i % 10 == 0 ? 70_000 : 0));
        n += feedback.Write(buffer.AsSpan(n), 1, 0x1234);
        _rrTransportCc = buffer[..n];
    }

    [Benchmark(Description = "RTP header + 3 extensions parse")]
    public int ParseRtpWithExtensions()
    {
        if (!RtpPacketView.TryRead(_rtp, out var view))
            return -1;
        int sum = view.SequenceNumber + view.Payload.Length;
        foreach (var e in view.Extensions)
        {
            switch (_map.GetKind(e.Id))
            {
                case RtpExtensionKind.TransportSequenceNumber when TransportSequenceNumber.TryRead(e.Data, out ushort seq):
                    sum += seq;
                    break;
                case RtpExtensionKind.AbsSendTime when AbsSendTime.TryRead(e.Data, out var ast):
                    sum += (int)ast.Value;
                    break;
                case RtpExtensionKind.Mid:
                    sum += e.Data.Length;
                    break;
            }
        }
        return sum;
    }

    [Benchmark(Description = "RTCP compound SR + SDES parse")]
    public long ParseSrSdes()
    {
        if (!RtcpCompound.TryRead(_srSdes, out var compound))
            return -1;
        long sum = 0;
        foreach (var packet in compound)
        {
            if (SenderReportView.TryRead(packet, out var sr))
                sum += (long)sr.NtpTimestamp + sr.RtpTimestamp;
            else if (SdesView.TryRead(packet, out var sdes) && sdes.TryGetCname(out uint ssrc, out var cname))
                sum += ssrc + cname.Length;
        }
        return sum;
    }

    [Benchmark(Description = "RTCP compound RR + transport-cc (50 pkts) parse")]
    public long ParseRrTransportCc()
    {
        if (!RtcpCompound.TryRead(_rrTransportCc, out var compound))
            return -1;
        long sum = 0;
        foreach (var packet in compound)
        {
            if (ReceiverReportView.TryRead(packet, out var rr))
            {
                for (int i = 0; i < rr.ReportCount; i++)
                    sum += rr.GetReportBlock(i).CumulativeLost;
            }
            else if (TransportFeedbackView.TryRead(packet, out var feedback))
            {
                foreach (var status in feedback)
                    sum += status.ArrivalMicros;
            }
        }
        return sum;
    }

    [Benchmark(Description = "transport-cc feedback build (50 pkts)")]
    public int BuildTransportCc()
    {
        long baseSeq = _round * 60;
        long baseTime = _round * 100_000;
        _round++;
        for (int i = 0; i < 50; i++)
            _builder.AddReceivedPacket(baseSeq + i + (i > 30 ? 2 : 0), baseTime + i * 2_000 + (i % 10 == 0 ? 70_000 : 0));
        return _builder.Write(_output, 1, 0x1234);
    }

    [Benchmark(Description = "RTP header + 3 extensions write")]
    public int WriteRtpHeader()
    {
        Span<byte> elements = stackalloc byte[16];
        var ext = new RtpHeaderExtensionWriter(elements, twoByte: false);
        Span<byte> value = stackalloc byte[3];
        new AbsSendTime(0x123456).Write(value);
        ext.TryAdd(2, value);
        TransportSequenceNumber.Write(value, 0x0102);
        ext.TryAdd(3, value[..2]);
        ext.TryAdd(4, "1"u8);
        return new RtpPacket { PayloadType = 102, SequenceNumber = 1, Timestamp = 2, Ssrc = 3, ExtensionProfile = ext.Profile, ExtensionElements = ext.Written }.Write(_output);
    }
}
