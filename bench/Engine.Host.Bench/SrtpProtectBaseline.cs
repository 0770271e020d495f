using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Engine.Srtp;

namespace Engine.Host.Bench;

/// <summary>
/// SRTP protect alone, for the fan-out's "multiple of floor + SRTP" (bench/results/playback.md):
/// the packet a player sends in FanoutBenchmarks (RTP 1184 B: 12 header, 12 of abs-send-time and
/// transport-wide sequence, 1160 payload; 1200 B once protected), with the profile its handshakes choose.
/// </summary>
[MemoryDiagnoser]
public class SrtpProtectBaseline
{
    private const int Packets = 1000;
    private static readonly byte[] KeyingMaterial = Enumerable.Range(1, 88).Select(i => (byte)(i * 5)).ToArray();
    private readonly byte[] _template = new byte[1500];
    private readonly byte[] _buffer = new byte[1500];
    private SrtpSession _session = null!;
    private ushort _seq;
    private int _length;
    private long _cpuNanos, _packets;

    [Params(SrtpProfile.AeadAes128Gcm)]
    public SrtpProfile Profile { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _session = new SrtpSession(Profile, KeyingMaterial.AsSpan(0, SrtpSession.KeyingMaterialLength(Profile)), isClient: false);
        _template[0] = 0x90; // X: one-byte header extensions (RFC 8285 §4.2)
        _template[1] = 96;
        BinaryPrimitives.WriteUInt32BigEndian(_template.AsSpan(8), 0x10000);
        BinaryPrimitives.WriteUInt16BigEndian(_template.AsSpan(12), 0xBEDE);
        BinaryPrimitives.WriteUInt16BigEndian(_template.AsSpan(14), 2);
        new Random(3).NextBytes(_template.AsSpan(16, 8 + 1160));
        _length = 12 + 12 + 1160;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// srtp baseline thread CPU: {(double)_cpuNanos / _packets:F1} ns per protect over {_packets}");
        _session.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Packets, Description = "SRTP protect, the player's packet")]
    public int Protect()
    {
        long cpu = ThreadCpu.Nanos();
        int total = 0;
        for (int i = 0; i < Packets; i++)
        {
            _template.AsSpan(0, _length).CopyTo(_buffer); // as the send stream copies out of its history
            BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), _seq++);
            if (_session.ProtectRtp(_buffer, _length, out int n) != SrtpResult.Ok)
                throw new InvalidOperationException("protect failed");
            total += n;
        }
        _packets += Packets;
        _cpuNanos += ThreadCpu.Nanos() - cpu;
        return total;
    }
}
