using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Engine.Srtp.Reference;

namespace Engine.Srtp.Bench;

/// <summary>SRTCP protect and unprotect of an 80-byte compound (SR + SDES), ours beside libsrtp2; same ring scheme as <see cref="RtpBenchmarks"/>.</summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class RtcpBenchmarks
{
    private const int Ring = 1024;

    [Params(SrtpProfile.Aes128CmHmacSha1_80, SrtpProfile.Aes128CmHmacSha1_32, SrtpProfile.AeadAes128Gcm, SrtpProfile.AeadAes256Gcm)]
    public SrtpProfile Profile { get; set; }

    private SrtpSession _oursSender = null!, _oursReceiver = null!;
    private LibSrtp _theirSender = null!, _theirReceiver = null!;
    private byte[] _plain = null!;
    private byte[][] _protected = null!;
    private int[] _protectedLength = null!;
    private readonly byte[] _buffer = new byte[2048];
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
        _plain = BenchPackets.RtcpCompound();

        using var ringSender = new SrtpSession(Profile, material, isClient: true);
        _protected = new byte[Ring][];
        _protectedLength = new int[Ring];
        for (int i = 0; i < Ring; i++)
        {
            byte[] buffer = new byte[_plain.Length + 64];
            _plain.CopyTo(buffer, 0);
            if (ringSender.ProtectRtcp(buffer, _plain.Length, out _protectedLength[i]) != SrtpResult.Ok) throw new InvalidOperationException();
            _protected[i] = buffer;
        }
        for (int i = 0; i < 2; i++)
        {
            if (OursUnprotectRtcp() != 0) throw new InvalidOperationException("ours rejected the ring");
            if (LibSrtpUnprotectRtcp() != 0) throw new InvalidOperationException("libsrtp rejected the ring");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _oursSender.Dispose(); _oursReceiver.Dispose();
        _theirSender.Dispose(); _theirReceiver.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ProtectRtcp")]
    public int LibSrtpProtectRtcp()
    {
        _plain.CopyTo(_buffer, 0);
        return _theirSender.ProtectRtcp(_buffer, _plain.Length, out _);
    }

    [Benchmark, BenchmarkCategory("ProtectRtcp")]
    public int OursProtectRtcp()
    {
        _plain.CopyTo(_buffer, 0);
        return (int)_oursSender.ProtectRtcp(_buffer, _plain.Length, out _);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("UnprotectRtcp")]
    public int LibSrtpUnprotectRtcp()
    {
        int i = _theirNext;
        _theirNext = (i + 1) % Ring;
        if (i == 0) _theirReceiver.RemoveStream(BenchPackets.Ssrc);
        int length = _protectedLength[i];
        _protected[i].AsSpan(0, length).CopyTo(_buffer);
        return _theirReceiver.UnprotectRtcp(_buffer.AsSpan(0, length), out _);
    }

    [Benchmark, BenchmarkCategory("UnprotectRtcp")]
    public int OursUnprotectRtcp()
    {
        int i = _oursNext;
        _oursNext = (i + 1) % Ring;
        if (i == 0) _oursReceiver.RemoveRemoteSsrc(BenchPackets.Ssrc);
        int length = _protectedLength[i];
        _protected[i].AsSpan(0, length).CopyTo(_buffer);
        return (int)_oursReceiver.UnprotectRtcp(_buffer.AsSpan(0, length), out _);
    }
}
