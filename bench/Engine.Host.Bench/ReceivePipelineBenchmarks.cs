using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Engine.Rtp;
using Engine.Rtp.Media;
using Engine.Rtp.Receive;
using Engine.Srtp;

namespace Engine.Host.Bench;

/// <summary>
/// The per-packet receive path of a publish session, in process: SRTP unprotect in place, RTP
/// parse, statistics, NACK bookkeeping, reorder buffer, H.264 depacketizer, frame sink. The stream
/// is a 2.5 Mbps H.264 video at 30 fps (about 10.4 KB a frame, FU-A packets of 1,160 payload bytes,
/// a keyframe every 2 s), protected in setup as a browser would; one invocation receives the whole
/// stream (9,000 packets, 30 s), so every packet is fresh for the replay window.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class ReceivePipelineBenchmarks
{
    private const int Packets = 9000;
    private const int PayloadBytes = 1160;
    private static readonly byte[] KeyingMaterial = Enumerable.Range(1, 88).Select(i => (byte)(i * 7)).ToArray();

    private byte[][] _protected = null!;
    private int[] _lengths = null!;
    private readonly byte[] _buffer = new byte[1500];
    private SrtpSession _receiver = null!;
    private RtpReceiveStream _stream = null!;
    private readonly CountingSink _sink = new();

    [Params(SrtpProfile.AeadAes128Gcm, SrtpProfile.Aes128CmHmacSha1_80)]
    public SrtpProfile Profile { get; set; }

    private sealed class CountingSink : IEncodedFrameSink
    {
        public long Frames, Bytes;

        public void OnFrame(int trackIndex, in EncodedFrame frame)
        {
            Frames++;
            Bytes += frame.Data.Length;
        }

        public void OnEnd() { }
    }

    [GlobalSetup]
    public void Setup()
    {
        var km = KeyingMaterial.AsSpan(0, SrtpSession.KeyingMaterialLength(Profile));
        using var browser = new SrtpSession(Profile, km, isClient: true);
        _protected = new byte[Packets][];
        _lengths = new int[Packets];
        var rng = new Random(42);
        const int packetsPerFrame = 9;
        for (int i = 0; i < Packets; i++)
        {
            int frame = i / packetsPerFrame, k = i % packetsPerFrame;
            var p = new byte[1500];
            p[0] = 0x80;
            p[1] = (byte)(96 | (k == packetsPerFrame - 1 ? 0x80 : 0));
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(1000 + i));
            BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), (uint)(frame * 3000));
            BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), 0x12345678);
            // RFC 6184 §5.8 FU-A: indicator, header (S on the first, E on the last), fragment.
            bool key = frame % 60 == 0;
            p[12] = 0x7C;
            p[13] = (byte)((k == 0 ? 0x80 : 0) | (k == packetsPerFrame - 1 ? 0x40 : 0) | (key ? 5 : 1));
            rng.NextBytes(p.AsSpan(14, PayloadBytes));
            int length = 14 + PayloadBytes;
            if (browser.ProtectRtp(p, length, out int protectedLength) != SrtpResult.Ok)
                throw new InvalidOperationException("protect failed");
            _protected[i] = p;
            _lengths[i] = protectedLength;
        }
    }

    [IterationSetup]
    public void NewReceiver()
    {
        _receiver?.Dispose();
        var km = KeyingMaterial.AsSpan(0, SrtpSession.KeyingMaterialLength(Profile));
        _receiver = new SrtpSession(Profile, km, isClient: false);
        _stream = new RtpReceiveStream(MediaCodec.H264, 90000, 0, _sink, useNack: true);
    }

    [Benchmark(OperationsPerInvoke = Packets, Description = "receive pipeline per packet (2.5 Mbps H.264)")]
    public long ReceivePacket()
    {
        long now = 0;
        for (int i = 0; i < Packets; i++)
        {
            int length = _lengths[i];
            _protected[i].AsSpan(0, length).CopyTo(_buffer); // the socket's receive buffer
            var datagram = _buffer.AsSpan(0, length);
            if (_receiver.UnprotectRtp(datagram, out int plain) != SrtpResult.Ok)
                throw new InvalidOperationException("unprotect failed");
            if (!RtpPacketView.TryRead(datagram[..plain], out var packet))
                throw new InvalidOperationException("parse failed");
            _stream.OnRtp(packet, now += 370);
        }
        return _sink.Frames;
    }
}
