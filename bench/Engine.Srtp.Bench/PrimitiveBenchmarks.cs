using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Engine.Srtp.Crypto;

namespace Engine.Srtp.Bench;

/// <summary>
/// The options for each primitive on a 1200-byte packet, to choose by measurement:
/// HMAC-SHA1 through libcrypto's SHA-1 with saved ipad/opad states (ours) against a cached
/// IncrementalHash HMAC; AES-GCM hand-written (AES-NI + PCLMULQDQ) against a cached
/// System.Security.Cryptography.AesGcm; AES-CTR keystream alone.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PrimitiveBenchmarks
{
    private readonly byte[] _data = new byte[1200];
    private readonly byte[] _mac = new byte[20];
    private readonly byte[] _tag = new byte[16];
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _aad = new byte[12];
    private readonly byte[] _roc = new byte[4];
    private HmacSha1 _ours = null!;
    private IncrementalHash _incremental = null!;
    private GcmCipher _gcm = null!;
    private AesGcm _dotnetGcm = null!;
    private AesCipher _aes = null!;
    private Vector128<byte> _iv; // the 12-byte nonce, zero counter

    [GlobalSetup]
    public void Setup()
    {
        byte[] key = new byte[20];
        new Random(1).NextBytes(key);
        new Random(2).NextBytes(_data);
        _ours = new HmacSha1(key);
        _incremental = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, key);
        _gcm = new GcmCipher(key.AsSpan(0, 16));
        _dotnetGcm = new AesGcm(key.AsSpan(0, 16), 16);
        _aes = new AesCipher(key.AsSpan(0, 16));
        new Random(3).NextBytes(_nonce);
        _iv = Vector128.Create((byte[])[.. _nonce, 0, 0, 0, 0]);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("HMAC-SHA1 1200 B")]
    public byte IncrementalHashHmac()
    {
        _incremental.AppendData(_data);
        _incremental.AppendData(_roc);
        _incremental.GetHashAndReset(_mac);
        return _mac[0];
    }

    [Benchmark, BenchmarkCategory("HMAC-SHA1 1200 B")]
    public byte LibCryptoSha1Hmac()
    {
        _ours.Compute(_data, _roc, _mac);
        return _mac[0];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("AES-128-GCM seal 1200 B")]
    public byte DotNetAesGcm()
    {
        _dotnetGcm.Encrypt(_nonce, _data, _data, _tag, _aad);
        return _tag[0];
    }

    [Benchmark, BenchmarkCategory("AES-128-GCM seal 1200 B")]
    public byte OursAesGcm()
    {
        _gcm.Seal(_iv, _aad, _data, _tag);
        return _tag[0];
    }

    [Benchmark, BenchmarkCategory("AES-128-CTR 1200 B")]
    public byte OursAesCtr()
    {
        _aes.Ctr(Vector128<byte>.Zero, 0, _data);
        return _data[0];
    }
}
