using BenchmarkDotNet.Attributes;
using Engine.Rtp.Rtcp;
using Engine.Rtp.Send;

namespace Engine.Rtp.Bench;

/// <summary>Send path costs: per frame (packetize into the history, pace, copy out, stamp), per forwarded packet, per NACKed packet; all should allocate 0 B.</summary>
[MemoryDiagnoser]
public class SendPathBenchmarks
{
    private byte[] _idr = [];
    private byte[] _pFrame = [];
    private byte[] _forwarded = [];
    private byte[] _nack = [];
    private readonly byte[] _output = new byte[1500];
    private RtpSendStream _stream = null!;
    private RtpSendStream _nackStream = null!;
    private H264Packetizer _packetizer = null!;
    private RtpForwardRewriter _rewriter = null!;
    private long _now;
    private uint _timestamp;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        byte[] Nal(byte header, int length)
        {
            var nal = new byte[length];
            random.NextBytes(nal);
            nal[0] = header;
            for (int i = 2; i < length; i++)
                if (nal[i] <= 3 && nal[i - 1] == 0 && nal[i - 2] == 0) nal[i] = 0x55; // no start code inside
            return nal;
        }
        byte[] AnnexB(params byte[][] nals) => nals.SelectMany(n => new byte[] { 0, 0, 0, 1 }.Concat(n)).ToArray();
        _idr = AnnexB(Nal(0x67, 20), Nal(0x68, 5), Nal(0x65, 30_000)); // 26 packets
        _pFrame = AnnexB(Nal(0x41, 5_000)); // 5 packets
        var history = new SendHistory();
        var stamper = new LeavingPacketStamper(2, 3, history);
        _stream = new RtpSendStream(new RtpSendStreamOptions { Ssrc = 1, PayloadType = 96, RtxSsrc = 2, RtxPayloadType = 97, Seed = 1 }, stamper);
        _nackStream = new RtpSendStream(new RtpSendStreamOptions { Ssrc = 3, PayloadType = 96, RtxSsrc = 4, RtxPayloadType = 97, Seed = 1 }, stamper);
        _packetizer = new H264Packetizer();
        for (int i = 0; i < 1024; i++)
        {
            _nackStream.WritePayload(new byte[1100], (uint)i, false, 0);
            _nackStream.TryPollPacket(_output, i * 1000, out _);
        }
        var packet = new RtpPacket { PayloadType = 96, SequenceNumber = 1, Timestamp = 2, Ssrc = 3, Payload = new byte[1100] };
        _forwarded = new byte[packet.GetSerializedLength()];
        packet.Write(_forwarded);
        _rewriter = new RtpForwardRewriter(9, 90_000, random);
        var nack = new byte[64];
        int n = new GenericNack { SenderSsrc = 9, MediaSsrc = 3, LostSequenceNumbers = new ushort[] { 0 } }.Write(nack);
        _nack = nack[..n];
        _now = 10_000_000;
    }

    private int SendFrame(byte[] annexB)
    {
        _timestamp += 3000;
        _stream.WriteH264(_packetizer, annexB, _timestamp, _now);
        int bytes = 0;
        for (int guard = 0; guard < 1000 && _stream.Pacer.QueuedPackets > 0; guard++)
        {
            if (_stream.TryPollPacket(_output, _now, out int n))
                bytes += n;
            else
                _now += 1000;
        }
        _now += 33_333;
        return bytes;
    }

    [Benchmark(Description = "H.264 P frame 5 KB: packetize+history+pacer+OnSend (5 pkts)")]
    public int H264PFrame() => SendFrame(_pFrame);

    [Benchmark(Description = "H.264 IDR 30 KB: packetize+history+pacer+OnSend (27 pkts)")]
    public int H264Idr() => SendFrame(_idr);

    [Benchmark(Description = "forward rewrite, 1100 B packet (copy + rewrite)")]
    public int ForwardRewrite()
    {
        _now += 1000;
        return _rewriter.Rewrite(_forwarded, _output, _now);
    }

    [Benchmark(Description = "NACK -> RTX resend, 1 packet (parse+lookup+pacer+RTX+OnSend)")]
    public int NackResend()
    {
        _now += 25_000; // past the resend interval
        // The NACKed number walks over the history.
        ushort seq = (ushort)(_nackStream.NextSequenceNumber - 1 - (int)(_now / 25_000 % 1000));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(_nack.AsSpan(12), seq);
        _nackStream.HandleRtcp(_nack, _now);
        return _nackStream.TryPollPacket(_output, _now, out int n) ? n : 0;
    }
}
