using System.Net;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Engine.Ice;

namespace Engine.Ice.Bench;

/// <summary>
/// The ICE-lite hot path for one connectivity check: parse a Chromium-shaped binding request
/// (USERNAME, GOOG-NETWORK-INFO, ICE-CONTROLLING, USE-CANDIDATE, PRIORITY, MESSAGE-INTEGRITY,
/// FINGERPRINT), verify MESSAGE-INTEGRITY and FINGERPRINT, and write the success response
/// (XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 8)]
public class StunBenchmarks
{
    private readonly byte[] _key = Encoding.ASCII.GetBytes("5PXyuI0CUP0DSJClaph46Xds");
    private readonly byte[] _response = new byte[1500];
    private StunMessageIntegrityKey _sessionKey;
    private byte[] _request = [];
    private NetAddress _from;

    [GlobalSetup]
    public void Setup()
    {
        _sessionKey = StunMessageIntegrityKey.Create(_key);
        _from = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 46772));
        var txid = new byte[12];
        new Random(7).NextBytes(txid);
        var buffer = new byte[200];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, txid);
        w.AddUsername("6soA:xxcb"u8);
        w.AddAttribute(StunAttributeType.GoogNetworkInfo, [0x00, 0x01, 0x00, 0x0a]);
        w.AddIceControlling(0x1122334455667788);
        w.AddUseCandidate();
        w.AddPriority(1853824767);
        w.AddMessageIntegrity(_key);
        w.AddFingerprint();
        _request = w.WrittenSpan.ToArray();
        if (VerifyAndAnswer() == 0)
            throw new InvalidOperationException("benchmark request does not verify");
    }

    [Benchmark]
    public bool ParseOnly() => StunMessageView.TryRead(_request, out var m) && m.TryGetUsername(out _);

    [Benchmark]
    public bool ParseAndVerify() =>
        StunMessageView.TryRead(_request, out var m) && m.VerifyFingerprint() && m.VerifyMessageIntegrity(_sessionKey);

    [Benchmark]
    public int BuildResponse()
    {
        var w = new StunMessageWriter(_response, StunMethod.Binding, StunClass.SuccessResponse, _request.AsSpan(8, 12));
        w.AddXorMappedAddress(_from);
        w.AddMessageIntegrity(_sessionKey);
        w.AddFingerprint();
        return w.Length;
    }

    /// <summary>The whole check with the session's precomputed key (how an ICE-lite agent calls it).</summary>
    [Benchmark(Baseline = true)]
    public int VerifyAndAnswer()
    {
        if (!StunMessageView.TryRead(_request, out var m) || m.Class != StunClass.Request
            || !m.VerifyFingerprint() || !m.TryGetUsername(out _) || !m.VerifyMessageIntegrity(_sessionKey))
            return 0;
        var w = new StunMessageWriter(_response, StunMethod.Binding, StunClass.SuccessResponse, m.TransactionId);
        w.AddXorMappedAddress(_from);
        w.AddMessageIntegrity(_sessionKey);
        w.AddFingerprint();
        return w.Length;
    }

    /// <summary>The same with SHA-1 forced to the managed compression (no libcrypto SHA1_Transform).</summary>
    [Benchmark]
    public int VerifyAndAnswerManagedSha1()
    {
        StunSha1.UseLibCrypto = false;
        try
        {
            return VerifyAndAnswer();
        }
        finally
        {
            StunSha1.UseLibCrypto = StunSha1LibCrypto.IsAvailable;
        }
    }

    /// <summary>The same with the password passed as bytes each time (HMAC pads hashed per call).</summary>
    [Benchmark]
    public int VerifyAndAnswerRawKey()
    {
        if (!StunMessageView.TryRead(_request, out var m) || m.Class != StunClass.Request
            || !m.VerifyFingerprint() || !m.TryGetUsername(out _) || !m.VerifyMessageIntegrity(_key))
            return 0;
        var w = new StunMessageWriter(_response, StunMethod.Binding, StunClass.SuccessResponse, m.TransactionId);
        w.AddXorMappedAddress(_from);
        w.AddMessageIntegrity(_key);
        w.AddFingerprint();
        return w.Length;
    }

    /// <summary>Reference point: the same two HMAC-SHA1s through .NET's OpenSSL-backed one-shot API.</summary>
    [Benchmark]
    public int TwoHmacSha1ViaOpenSsl()
    {
        Span<byte> mac = stackalloc byte[20];
        HMACSHA1.HashData(_key, _request.AsSpan(0, _request.Length - 32), mac);
        HMACSHA1.HashData(_key, _response.AsSpan(0, 40), mac);
        return mac[0];
    }
}
