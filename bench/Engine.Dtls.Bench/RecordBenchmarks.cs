using BenchmarkDotNet.Attributes;
using Engine.Dtls;

namespace Engine.Dtls.Bench;

/// <summary>The per-record hot path: encrypt one 1000-byte application data record, then decrypt it.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class RecordBenchmarks
{
    private DtlsCertificate _a = null!, _b = null!;
    private DtlsEndpoint _client = null!, _server = null!;
    private readonly byte[] _payload = new byte[1000];
    private readonly byte[] _wire = new byte[2048];
    private readonly byte[] _plain = new byte[2048];

    [GlobalSetup]
    public void Setup()
    {
        _a = DtlsCertificate.Generate();
        _b = DtlsCertificate.Generate();
        _client = new DtlsEndpoint(DtlsRole.Client, _a, new DtlsOptions { RemoteFingerprint = _b.Fingerprint });
        _server = new DtlsEndpoint(DtlsRole.Server, _b, new DtlsOptions { RemoteFingerprint = _a.Fingerprint });
        _client.Start(0);
        for (int i = 0; i < 10; i++)
        {
            while (_client.TryPollTransmit(_wire, out int n)) _server.HandleDatagram(_wire.AsSpan(0, n), 0);
            while (_server.TryPollTransmit(_wire, out int n)) _client.HandleDatagram(_wire.AsSpan(0, n), 0);
        }
        if (_server.State != DtlsState.Connected) throw new InvalidOperationException("handshake failed");
    }

    [Benchmark(Description = "1000 B application record send+receive")]
    public int SendReceive()
    {
        _client.SendApplicationData(_payload);
        _client.TryPollTransmit(_wire, out int n);
        _server.HandleDatagram(_wire.AsSpan(0, n), 0);
        _server.TryPollApplicationData(_plain, out int m);
        return m;
    }
}
