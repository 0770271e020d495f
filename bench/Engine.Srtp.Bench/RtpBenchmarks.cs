using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Engine.Srtp.Reference;

namespace Engine.Srtp.Bench;

/// <summary>
/// SRTP protect and unprotect, ours beside libsrtp2 (baseline) in the same run.
/// Every operation first copies the packet into the work buffer (both sides pay it).
/// Unprotect reads a ring of <see cref="Ring"/> packets protected in setup with consecutive
/// sequence numbers, so every packet is fresh to the replay window; when the ring wraps, both
/// receivers drop the SSRC's state (ours: RemoveRemoteSsrc, libsrtp: srtp_remove_stream) and
/// re-create it from the next packet, once per <see cref="Ring"/> packets.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class RtpBenchmarks
{
    private const int Ring = 1024;

    [Params(SrtpProfile.Aes128CmHmacSha1_80, SrtpProfile.Aes128CmHmacSha1_32, SrtpProfile.AeadAes128Gcm, SrtpProfile.AeadAes256Gcm)]
    public SrtpProfile Profile { get; set; }

    [Params(160, 1200)]
    public int Size { get; set; }

    private SrtpSession _oursSender = null!, _oursReceiver = null!;
    private LibSrtp _theirSender = null!, _theirReceiver = null!;
    private byte[] _plain = null!;
    private byte[][] _protected = null!;
    private int[] _protectedLength = null!;
    private readonly byte[] _buffer = new byte[2048];
    private ushort _oursSeq, _theirSeq;
    private int _oursNext, _theirNext;

    [GlobalSetup]
    public void Setup()
    {
        byte[] material = BenchPackets.KeyingMaterial(Profile);
        var (key, salt) = BenchPackets.ClientHalf(Profile, material);
        _oursSender = new SrtpSession(Profile, material, isClient: true);
        _oursReceiver = new SrtpSession(Profile, material, isClient: false);
        _theirSender = new LibSrtp(Profile, key, salt, outbound: true);
        _theirReceiver = new LibSrtp(Profile, key, salt, outbound: false);
        _plain = BenchPackets.Rtp(Size);

        // The ring, protected by a separate sender so the measured senders start fresh.
        using var ringSender = new SrtpSession(Profile, material, isClient: true);
        _protected = new byte[Ring][];
        _protectedLength = new int[Ring];
        for (int i = 0; i < Ring; i++)
        {
            byte[] buffer = new byte[Size + 64];
            _plain.CopyTo(buffer, 0);
            buffer[2] = (byte)(i >> 8);
            buffer[3] = (byte)i;
            if (ringSender.ProtectRtp(buffer, Size, out _protectedLength[i]) != SrtpResult.Ok) throw new InvalidOperationException();
            _protected[i] = buffer;
        }
        // Both receivers must accept the ring, or the benchmark measures rejections.
        for (int i = 0; i < 2; i++)
        {
            if (OursUnprotectRtp() != 0) throw new InvalidOperationException("ours rejected the ring");
            if (LibSrtpUnprotectRtp() != 0) throw new InvalidOperationException("libsrtp rejected the ring");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _oursSender.Dispose(); _oursReceiver.Dispose();
        _theirSender.Dispose(); _theirReceiver.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ProtectRtp")]
    public int LibSrtpProtectRtp()
    {
        _plain.CopyTo(_buffer, 0);
        ushort seq = _theirSeq++;
        _buffer[2] = (byte)(seq >> 8);
        _buffer[3] = (byte)seq;
        return _theirSender.ProtectRtp(_buffer, _plain.Length, out _);
    }

    [Benchmark, BenchmarkCategory("ProtectRtp")]
    public int OursProtectRtp()
    {
        _plain.CopyTo(_buffer, 0);
        ushort seq = _oursSeq++;
        _buffer[2] = (byte)(seq >> 8);
        _buffer[3] = (byte)seq;
        return (int)_oursSender.ProtectRtp(_buffer, _plain.Length, out _);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("UnprotectRtp")]
    public int LibSrtpUnprotectRtp()
    {
        int i = _theirNext;
        _theirNext = (i + 1) % Ring;
        if (i == 0) _theirReceiver.RemoveStream(BenchPackets.Ssrc);
        int length = _protectedLength[i];
        _protected[i].AsSpan(0, length).CopyTo(_buffer);
        return _theirReceiver.UnprotectRtp(_buffer.AsSpan(0, length), out _);
    }

    [Benchmark, BenchmarkCategory("UnprotectRtp")]
    public int OursUnprotectRtp()
    {
        int i = _oursNext;
        _oursNext = (i + 1) % Ring;
        if (i == 0) _oursReceiver.RemoveRemoteSsrc(BenchPackets.Ssrc);
        int length = _protectedLength[i];
        _protected[i].AsSpan(0, length).CopyTo(_buffer);
        return (int)_oursReceiver.UnprotectRtp(_buffer.AsSpan(0, length), out _);
    }
}
