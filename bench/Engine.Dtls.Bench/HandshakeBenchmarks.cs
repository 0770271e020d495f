using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Engine.Dtls;
using Engine.Dtls.Tests;
using Org.BouncyCastle.Crypto.Tls;
using Org.BouncyCastle.Security;
using BcSuite = Org.BouncyCastle.Crypto.Tls.CipherSuite;
using BcProfile = Org.BouncyCastle.Crypto.Tls.SrtpProtectionProfile;

namespace Engine.Dtls.Bench;

/// <summary>
/// One full DTLS 1.2 handshake (cookie exchange, ECDHE P-256, ECDSA both ways, AES-128-GCM, use_srtp,
/// key export) between two in-memory peers: ours vs ours, and BouncyCastle vs BouncyCastle; and ours
/// with RSA-2048 certificates on both sides (ECDHE_RSA, RSA signatures both ways: GStreamer's default).
/// Certificates are made once; ephemeral keys per handshake, as in production.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class HandshakeBenchmarks
{
    private DtlsCertificate _serverCert = null!;
    private DtlsCertificate _clientCert = null!;
    private DtlsCertificate _serverRsaCert = null!;
    private DtlsCertificate _clientRsaCert = null!;
    private BouncyIdentity _bcServerIdentity = null!;
    private BouncyIdentity _bcClientIdentity = null!;
    private readonly byte[] _buffer = new byte[2048];
    private readonly byte[] _keys = new byte[64];
    private readonly SecureRandom _random = new();

    /// <summary>CPU time BouncyCastle's server threads spent in Accept, for <see cref="HandshakeCpuTime"/>.</summary>
    public static long ServerThreadCpuNanos;

    [GlobalSetup]
    public void Setup()
    {
        _serverCert = DtlsCertificate.Generate();
        _clientCert = DtlsCertificate.Generate();
        _serverRsaCert = DtlsCertificate.GenerateRsa(2048);
        _clientRsaCert = DtlsCertificate.GenerateRsa(2048);
        _bcServerIdentity = new BouncyIdentity(_serverCert);
        _bcClientIdentity = new BouncyIdentity(_clientCert);
    }

    [Benchmark(Description = "Engine.Dtls server+client")]
    public int Ours() => Handshake(_serverCert, _clientCert);

    [Benchmark(Description = "Engine.Dtls server+client, RSA-2048 both sides")]
    public int OursRsa2048() => Handshake(_serverRsaCert, _clientRsaCert);

    private int Handshake(DtlsCertificate serverCert, DtlsCertificate clientCert)
    {
        using var server = new DtlsEndpoint(DtlsRole.Server, serverCert, new DtlsOptions { RemoteFingerprint = clientCert.Fingerprint });
        using var client = new DtlsEndpoint(DtlsRole.Client, clientCert, new DtlsOptions { RemoteFingerprint = serverCert.Fingerprint });
        client.Start(0);
        for (int i = 0; i < 10 && server.State != DtlsState.Connected; i++)
        {
            while (client.TryPollTransmit(_buffer, out int n)) server.HandleDatagram(_buffer.AsSpan(0, n), 0);
            while (server.TryPollTransmit(_buffer, out int n)) client.HandleDatagram(_buffer.AsSpan(0, n), 0);
        }
        if (client.State != DtlsState.Connected || !client.TryExportSrtpKeyingMaterial(_keys, out int length))
            throw new InvalidOperationException("handshake failed");
        return length;
    }

    [Benchmark(Baseline = true, Description = "BouncyCastle 1.8.10 server+client")]
    public int BouncyCastle()
    {
        var toServer = new BlockingCollection<byte[]>();
        var toClient = new BlockingCollection<byte[]>();
        var serverTransport = new PipeTransport(toServer, toClient);
        var clientTransport = new PipeTransport(toClient, toServer);
        var bcServer = new BouncyDtlsServer(_bcServerIdentity, [BcSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256], [BcProfile.SRTP_AEAD_AES_128_GCM]);
        var bcClient = new BouncyDtlsClient(_bcClientIdentity, [BcSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256], [BcProfile.SRTP_AEAD_AES_128_GCM]);
        var accept = Task.Run(() =>
        {
            long start = HandshakeCpuTime.ThreadCpuNanos();
            DtlsTransport transport = new DtlsServerProtocol(_random).Accept(bcServer, serverTransport);
            Interlocked.Add(ref ServerThreadCpuNanos, HandshakeCpuTime.ThreadCpuNanos() - start);
            return transport;
        });
        new DtlsClientProtocol(_random).Connect(bcClient, clientTransport);
        if (!accept.Wait(10_000)) throw new TimeoutException("BouncyCastle server");
        return bcClient.SrtpKeyingMaterial!.Length;
    }

    /// <summary>A datagram pipe for two blocking BouncyCastle peers.</summary>
    private sealed class PipeTransport(BlockingCollection<byte[]> inbound, BlockingCollection<byte[]> outbound) : DatagramTransport
    {
        public int GetReceiveLimit() => 18432;
        public int GetSendLimit() => 1200;

        public int Receive(byte[] buf, int off, int len, int waitMillis)
        {
            if (!inbound.TryTake(out byte[]? d, waitMillis)) return -1;
            int n = Math.Min(len, d.Length);
            Array.Copy(d, 0, buf, off, n);
            return n;
        }

        public void Send(byte[] buf, int off, int len) => outbound.Add(buf.AsSpan(off, len).ToArray());

        public void Close() { }
    }
}
