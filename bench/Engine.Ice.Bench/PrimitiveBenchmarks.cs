using System.Text;
using BenchmarkDotNet.Attributes;
using Engine.Ice;

namespace Engine.Ice.Bench;

/// <summary>
/// The pieces VerifyAndAnswer is made of, to see where its time goes: one SHA-1 compression, the
/// two HMAC-SHA1 shapes of a check (68 bytes hashed for the request, 32 for the answer) and the
/// CRC-32 of the request's FINGERPRINT (96 bytes). Sha1BlockManaged forces the managed compression;
/// the Unrolled and Sliced rows are candidates from Candidates.cs, not what src/Ice runs.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 8)]
public class PrimitiveBenchmarks
{
    private readonly byte[] _data = new byte[128];
    private readonly byte[] _mac = new byte[20];
    private StunSha1 _state = StunSha1.Initial;
    private StunMessageIntegrityKey _key;
    private UnrolledSha1 _unrolled = new() { H0 = 0x67452301, H1 = 0xEFCDAB89, H2 = 0x98BADCFE, H3 = 0x10325476, H4 = 0xC3D2E1F0 };

    [GlobalSetup]
    public void Setup()
    {
        new Random(7).NextBytes(_data);
        _key = StunMessageIntegrityKey.Create(Encoding.ASCII.GetBytes("5PXyuI0CUP0DSJClaph46Xds"));
        for (int n = 0; n <= _data.Length; n++)
        {
            uint expected = StunCrc32.Compute(_data.AsSpan(0, n));
            if (Crc32Candidates.Sliced8Unchecked(_data.AsSpan(0, n)) != expected || Crc32Candidates.Sliced16Unchecked(_data.AsSpan(0, n)) != expected)
                throw new InvalidOperationException("CRC-32 candidate disagrees at length " + n);
        }
        var shipped = StunSha1.Initial;
        shipped.CompressManaged(ref _data[0]);
        var unrolled = _unrolled;
        unrolled.Compress(ref _data[0]);
        if (shipped.H0 != unrolled.H0 || shipped.H4 != unrolled.H4)
            throw new InvalidOperationException("unrolled SHA-1 disagrees");
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

    /// <summary>The managed compression with all 80 rounds unrolled (a candidate, not shipped).</summary>
    [Benchmark]
    public uint Sha1BlockManagedUnrolled()
    {
        _unrolled.Compress(ref _data[0]);
        return _unrolled.H0;
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

    [Benchmark]
    public uint Crc32Request96Sliced8Unchecked() => Crc32Candidates.Sliced8Unchecked(_data.AsSpan(0, 96));

    [Benchmark]
    public uint Crc32Request96Sliced16Unchecked() => Crc32Candidates.Sliced16Unchecked(_data.AsSpan(0, 96));
}
