using System.Text;
using BenchmarkDotNet.Attributes;
using Engine.Ice;

namespace Engine.Ice.Bench;

/// <summary>
/// The pieces VerifyAndAnswer is made of, to see where its time goes: one SHA-1 compression, the
/// two HMAC-SHA1 shapes of a check (68 bytes hashed for the request, 32 for the answer) and the
/// CRC-32 of the request's FINGERPRINT (96 bytes). Sha1BlockManaged forces the managed compression;
/// the unrolled-SHA-1 and slicing CRC candidates measured earlier are in bench/results/stun.md.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 8)]
public class PrimitiveBenchmarks
{
    private readonly byte[] _data = new byte[128];
    private readonly byte[] _mac = new byte[20];
    private StunSha1 _state = StunSha1.Initial;
    private StunMessageIntegrityKey _key;

    [GlobalSetup]
    public void Setup()
    {
        new Random(7).NextBytes(_data);
        _key = StunMessageIntegrityKey.Create(Encoding.ASCII.GetBytes("5PXyuI0CUP0DSJClaph46Xds"));
    }

    /// <summary>One block the way StunSha1 runs it here (libcrypto's SHA1_Transform when present).</summary>
    [Benchmark]
    public uint Sha1Block()
    {
        _state.Compress(_data.AsSpan(0, 64));
        return _state.H0;
    }

    [Benchmark]
    public uint Sha1BlockManaged()
    {
        _state.CompressManaged(ref _data[0]);
        return _state.H0;
    }

    [Benchmark]
    public byte HmacSha1Request68()
    {
        _key.Compute(_data.AsSpan(0, 20), _data.AsSpan(20, 48), _mac);
        return _mac[0];
    }

    [Benchmark]
    public byte HmacSha1Answer32()
    {
        _key.Compute(_data.AsSpan(0, 32), default, _mac);
        return _mac[0];
    }

    [Benchmark]
    public uint Crc32Request96() => StunCrc32.Compute(_data.AsSpan(0, 96));
}
