using System.Net;
using System.Net.Sockets;
using Engine.Dtls;

namespace Engine.Dtls.Tests;

/// <summary>
/// RSA-2048 and RSA-4096 certificates against the OpenSSL 3 CLI in both roles, our identity loaded from
/// openssl-made PEM files (the DTLSCER/DTLSKEY path). OpenSSL prefers RSA-PSS when we list it, so the
/// plain cases verify PSS; -sigalgs / -client_sigalgs force the other schemes.
/// </summary>
public sealed class OpenSslRsaInteropTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dtls-openssl-rsa-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // our key, their key, cipher, extra openssl arguments, expected suite, how s_client reports our ServerKeyExchange signature
    public static TheoryData<string, string, string, string, CipherSuite, string> ServerCases => new()
    {
        { "rsa:2048", "rsa:2048", "ECDHE-RSA-AES128-GCM-SHA256", "", CipherSuite.EcdheRsaAes128GcmSha256, "RSA" },
        { "rsa:4096", "rsa:4096", "ECDHE-RSA-AES256-GCM-SHA384", "", CipherSuite.EcdheRsaAes256GcmSha384, "RSA" },
        // GStreamer webrtcbin: an RSA-2048 client against our default P-256 server.
        { "ec", "rsa:2048", "ECDHE-ECDSA-AES128-GCM-SHA256", "", CipherSuite.EcdheEcdsaAes128GcmSha256, "ECDSA" },
        // A client that takes only PSS from an RSA server: our ServerKeyExchange is signed rsa_pss_rsae_sha256.
        { "rsa:2048", "ec", "ECDHE-RSA-AES128-GCM-SHA256", "-sigalgs rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256", CipherSuite.EcdheRsaAes128GcmSha256, "RSA-PSS" },
    };

    public static TheoryData<string, string, string, string, CipherSuite> ClientCases => new()
    {
        // Our CertificateVerify in PSS, the only scheme s_server's CertificateRequest lists.
        { "rsa:2048", "rsa:2048", "ECDHE-RSA-AES128-GCM-SHA256", "-client_sigalgs rsa_pss_rsae_sha256", CipherSuite.EcdheRsaAes128GcmSha256 },
        // s_server signs rsa_pkcs1_sha384 and asks for it: both directions PKCS#1 v1.5 with SHA-384.
        { "rsa:4096", "rsa:4096", "ECDHE-RSA-AES256-GCM-SHA384", "-sigalgs rsa_pkcs1_sha384", CipherSuite.EcdheRsaAes256GcmSha384 },
        { "ec", "rsa:2048", "ECDHE-RSA-AES128-GCM-SHA256", "", CipherSuite.EcdheRsaAes128GcmSha256 },
        { "rsa:2048", "ec", "ECDHE-ECDSA-AES128-GCM-SHA256", "", CipherSuite.EcdheEcdsaAes128GcmSha256 },
    };

    [Theory]
    [MemberData(nameof(ServerCases))]
    public void Our_server_with_openssl_s_client(string ourKey, string theirKey, string cipher, string extra, CipherSuite expected, string signatureType)
    {
        var (certPath, keyPath) = OpenSslPeer.CreateCertificate(Subdirectory("theirs"), theirKey);
        using DtlsCertificate ours = LoadOurs(ourKey);
        using var endpoint = new DtlsEndpoint(DtlsRole.Server, ours, new DtlsOptions { RemoteFingerprint = OpenSslInteropTests.FingerprintOf(certPath) });
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;

        using var peer = OpenSslPeer.Start($"s_client -dtls1_2 -connect 127.0.0.1:{port} -cipher {cipher} {extra} -use_srtp SRTP_AEAD_AES_128_GCM " +
            $"-keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 56 -cert {certPath} -key {keyPath}");
        OpenSslPeer.Drive(endpoint, socket, null, () => endpoint.State is not DtlsState.Handshaking and not DtlsState.New, TimeSpan.FromSeconds(30));
        Assert.True(endpoint.State == DtlsState.Connected, $"{endpoint.State} {endpoint.FailureReason} {endpoint.PeerAlert}\n{peer.Output}");
        Assert.True(peer.WaitForOutput("Keying material:", TimeSpan.FromSeconds(10)), peer.Output);
        Assert.Equal(expected, endpoint.CipherSuite);
        AssertSameKeys(endpoint, peer);
        Assert.Contains($"Peer signature type: {signatureType}\n", peer.Output);
    }

    [Theory]
    [MemberData(nameof(ClientCases))]
    public void Our_client_with_openssl_s_server(string ourKey, string theirKey, string cipher, string extra, CipherSuite expected)
    {
        var (certPath, keyPath) = OpenSslPeer.CreateCertificate(Subdirectory("theirs"), theirKey);
        using DtlsCertificate ours = LoadOurs(ourKey);
        int port = OpenSslPeer.FreeUdpPort();
        using var peer = OpenSslPeer.Start($"s_server -dtls1_2 -accept 127.0.0.1:{port} -cipher {cipher} {extra} -use_srtp SRTP_AEAD_AES_128_GCM " +
            $"-keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 56 -cert {certPath} -key {keyPath} -verify 1");
        Assert.True(peer.WaitForOutput("ACCEPT", TimeSpan.FromSeconds(10)), peer.Output);

        using var endpoint = new DtlsEndpoint(DtlsRole.Client, ours, new DtlsOptions { RemoteFingerprint = OpenSslInteropTests.FingerprintOf(certPath) });
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        endpoint.Start(0);
        OpenSslPeer.Drive(endpoint, socket, new IPEndPoint(IPAddress.Loopback, port),
            () => endpoint.State is not DtlsState.Handshaking and not DtlsState.New, TimeSpan.FromSeconds(30));
        Assert.True(endpoint.State == DtlsState.Connected, $"{endpoint.State} {endpoint.FailureReason} {endpoint.PeerAlert}\n{peer.Output}");
        Assert.True(peer.WaitForOutput("Keying material:", TimeSpan.FromSeconds(10)), peer.Output);
        Assert.Equal(expected, endpoint.CipherSuite);
        AssertSameKeys(endpoint, peer);
    }

    [Fact]
    public void Openssl_client_with_an_rsa_1024_certificate_is_refused()
    {
        var (certPath, keyPath) = OpenSslPeer.CreateCertificate(Subdirectory("theirs"), "rsa:1024");
        using var ours = DtlsCertificate.Generate();
        using var endpoint = new DtlsEndpoint(DtlsRole.Server, ours, new DtlsOptions { RemoteFingerprint = OpenSslInteropTests.FingerprintOf(certPath) });
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        // SECLEVEL 0: let OpenSSL itself use the small key, so that the refusal is ours.
        using var peer = OpenSslPeer.Start($"s_client -dtls1_2 -connect 127.0.0.1:{port} -cipher DEFAULT:@SECLEVEL=0 -use_srtp SRTP_AEAD_AES_128_GCM " +
            $"-cert {certPath} -key {keyPath}");
        OpenSslPeer.Drive(endpoint, socket, null, () => endpoint.State is not DtlsState.Handshaking and not DtlsState.New, TimeSpan.FromSeconds(30));
        Assert.True(endpoint.State == DtlsState.Failed, $"{endpoint.State}\n{peer.Output}");
        Assert.Equal(DtlsFailureReason.UnsupportedKey, endpoint.FailureReason);
        Assert.True(peer.WaitForOutput("unsupported certificate", TimeSpan.FromSeconds(10)), peer.Output);
    }

    private string Subdirectory(string name) => Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;

    private DtlsCertificate LoadOurs(string key)
    {
        var (certPath, keyPath) = OpenSslPeer.CreateCertificate(Subdirectory("ours"), key);
        DtlsCertificate ours = DtlsCertificate.LoadPem(certPath, keyPath);
        Assert.Equal(key != "ec", ours.IsRsa);
        return ours;
    }

    private static void AssertSameKeys(DtlsEndpoint endpoint, OpenSslPeer peer)
    {
        var ourKeys = new byte[56];
        Assert.True(endpoint.TryExportSrtpKeyingMaterial(ourKeys, out int n));
        Assert.Equal(56, n);
        Assert.Equal(Convert.ToHexString(ourKeys), Convert.ToHexString(peer.KeyingMaterial!));
    }
}
