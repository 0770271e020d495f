using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Engine.Dtls;
using Engine.Dtls.Handshake;
using Engine.Dtls.Record;

namespace Engine.Dtls.Tests;

/// <summary>Handshakes with the OpenSSL 3 CLI over loopback UDP; both sides must export the same SRTP keys.</summary>
public sealed class OpenSslInteropTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dtls-openssl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string, ushort> Cases => new()
    {
        { "ECDHE-ECDSA-AES128-GCM-SHA256", "SRTP_AEAD_AES_128_GCM", SrtpProtectionProfile.AeadAes128Gcm },
        { "ECDHE-ECDSA-AES256-GCM-SHA384", "SRTP_AEAD_AES_256_GCM", SrtpProtectionProfile.AeadAes256Gcm },
        { "ECDHE-ECDSA-AES128-GCM-SHA256", "SRTP_AES128_CM_SHA1_80", SrtpProtectionProfile.Aes128CmHmacSha1_80 },
        { "ECDHE-ECDSA-AES256-GCM-SHA384", "SRTP_AES128_CM_SHA1_32", SrtpProtectionProfile.Aes128CmHmacSha1_32 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Our_server_with_openssl_s_client(string cipher, string srtpName, ushort profile)
    {
        var (certPath, keyPath) = OpenSslPeer.CreateCertificate(_dir);
        using var ours = DtlsCertificate.Generate();
        using var endpoint = new DtlsEndpoint(DtlsRole.Server, ours, new DtlsOptions { RemoteFingerprint = FingerprintOf(certPath) });
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        int length = SrtpProtectionProfile.GetKeyingMaterialLength(profile);

        using var peer = OpenSslPeer.Start($"s_client -dtls1_2 -connect 127.0.0.1:{port} -cipher {cipher} -use_srtp {srtpName} " +
            $"-keymatexport EXTRACTOR-dtls_srtp -keymatexportlen {length} -cert {certPath} -key {keyPath}");
        OpenSslPeer.Drive(endpoint, socket, null, () => endpoint.State is not DtlsState.Handshaking and not DtlsState.New, TimeSpan.FromSeconds(20));
        Assert.True(endpoint.State == DtlsState.Connected, $"{endpoint.State} {endpoint.FailureReason} {endpoint.PeerAlert}\n{peer.Output}");
        Assert.True(peer.WaitForOutput("Keying material:", TimeSpan.FromSeconds(10)), peer.Output);
        peer.CloseInput();

        var ourKeys = new byte[length];
        Assert.True(endpoint.TryExportSrtpKeyingMaterial(ourKeys, out int n));
        Assert.Equal(length, n);
        Assert.Equal(Convert.ToHexString(ourKeys), Convert.ToHexString(peer.KeyingMaterial!));
        Assert.Equal(profile, endpoint.SrtpProfile);
        Assert.Contains(srtpName, peer.Output);
        // s_client sends close_notify after stdin closes.
        OpenSslPeer.Drive(endpoint, socket, null, () => endpoint.State == DtlsState.Closed, TimeSpan.FromSeconds(5));
        Assert.Equal(DtlsState.Closed, endpoint.State);
    }

    [Fact]
    public void Renegotiation_from_openssl_is_refused_with_no_renegotiation()
    {
        var (certPath, keyPath) = OpenSslPeer.CreateCertificate(_dir);
        using var ours = DtlsCertificate.Generate();
        using var endpoint = new DtlsEndpoint(DtlsRole.Server, ours, new DtlsOptions { RemoteFingerprint = FingerprintOf(certPath) });
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        using var peer = OpenSslPeer.Start($"s_client -dtls1_2 -connect 127.0.0.1:{port} -use_srtp SRTP_AEAD_AES_128_GCM -cert {certPath} -key {keyPath}");
        OpenSslPeer.Drive(endpoint, socket, null, () => endpoint.State is not DtlsState.Handshaking and not DtlsState.New, TimeSpan.FromSeconds(20));
        Assert.True(endpoint.State == DtlsState.Connected, $"{endpoint.State} {endpoint.FailureReason}\n{peer.Output}");
        var sent = endpoint.Counters.AlertsSent;

        // s_client's "R" command starts a renegotiation: a new ClientHello under epoch 1 (RFC 5746).
        // SSL_renegotiate only sets a flag; the next write from s_client starts the new handshake.
        peer.Process.StandardInput.WriteLine("R");
        peer.Process.StandardInput.Flush();
        Assert.True(peer.WaitForOutput("RENEGOTIATING", TimeSpan.FromSeconds(5)), peer.Output);
        peer.Process.StandardInput.WriteLine("after-renegotiate");
        peer.Process.StandardInput.Flush();
        IPEndPoint? client = null;
        OpenSslPeer.Drive(endpoint, socket, client, () => endpoint.Counters.AlertsSent > sent, TimeSpan.FromSeconds(10));
        Assert.True(endpoint.Counters.AlertsSent > sent, $"{endpoint.State} unexpected={endpoint.Counters.RecordsDroppedUnexpected} received={endpoint.Counters.RecordsReceived}\n{peer.Output}");
        Assert.True(endpoint.Counters.RecordsDroppedUnexpected >= 1);
        Assert.Contains("RENEGOTIATING", peer.Output);
        // Either side may end the session afterwards; ours did not crash and never renegotiated.
        Assert.NotEqual(DtlsState.Handshaking, endpoint.State);
    }

    [Fact]
    public void Both_sides_fragment_their_flights_at_a_300_byte_mtu()
    {
        var (certPath, keyPath) = OpenSslPeer.CreateCertificate(_dir);
        using var ours = DtlsCertificate.Generate();
        using var endpoint = new DtlsEndpoint(DtlsRole.Server, ours, new DtlsOptions { RemoteFingerprint = FingerprintOf(certPath), Mtu = 300 });
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        using var peer = OpenSslPeer.Start($"s_client -dtls1_2 -mtu 300 -connect 127.0.0.1:{port} -use_srtp SRTP_AEAD_AES_128_GCM " +
            $"-keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 56 -cert {certPath} -key {keyPath}");
        int largest = 0, partialFragments = 0;
        OpenSslPeer.Drive(endpoint, socket, null, () => endpoint.State is not DtlsState.Handshaking and not DtlsState.New, TimeSpan.FromSeconds(20),
            datagram =>
            {
                largest = Math.Max(largest, datagram.Length);
                ReadOnlySpan<byte> rest = datagram;
                while (DtlsRecordView.TryRead(rest, out DtlsRecordView record))
                {
                    if (record.Epoch == 0 && record.ContentType == ContentType.Handshake
                        && HandshakeFragmentView.TryRead(record.Fragment, out HandshakeFragmentView f) && !f.IsComplete)
                        partialFragments++;
                    rest = rest[record.TotalLength..];
                }
            });
        Assert.True(endpoint.State == DtlsState.Connected, $"{endpoint.State} {endpoint.FailureReason} {endpoint.PeerAlert}\n{peer.Output}");
        Assert.True(peer.WaitForOutput("Keying material:", TimeSpan.FromSeconds(10)), peer.Output);
        Assert.True(largest <= 300, $"openssl sent {largest} bytes");
        Assert.True(partialFragments >= 2, $"{partialFragments} partial handshake fragments from openssl");
        var ourKeys = new byte[56];
        Assert.True(endpoint.TryExportSrtpKeyingMaterial(ourKeys, out _));
        Assert.Equal(Convert.ToHexString(ourKeys), Convert.ToHexString(peer.KeyingMaterial!));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Our_client_with_openssl_s_server(string cipher, string srtpName, ushort profile)
    {
        var (certPath, keyPath) = OpenSslPeer.CreateCertificate(_dir);
        // Our side loads an openssl-made PEM pair: the legacy DTLSCER/DTLSKEY path.
        var (ourCertPath, ourKeyPath) = OpenSslPeer.CreateCertificate(Directory.CreateDirectory(Path.Combine(_dir, "ours")).FullName);
        using var ours = DtlsCertificate.LoadPem(ourCertPath, ourKeyPath);
        int port = OpenSslPeer.FreeUdpPort();
        int length = SrtpProtectionProfile.GetKeyingMaterialLength(profile);
        using var peer = OpenSslPeer.Start($"s_server -dtls1_2 -accept 127.0.0.1:{port} -cipher {cipher} -use_srtp {srtpName} " +
            $"-keymatexport EXTRACTOR-dtls_srtp -keymatexportlen {length} -cert {certPath} -key {keyPath} -verify 1");
        Assert.True(peer.WaitForOutput("ACCEPT", TimeSpan.FromSeconds(10)), peer.Output);

        using var endpoint = new DtlsEndpoint(DtlsRole.Client, ours, new DtlsOptions { RemoteFingerprint = FingerprintOf(certPath) });
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        endpoint.Start(0);
        OpenSslPeer.Drive(endpoint, socket, new IPEndPoint(IPAddress.Loopback, port),
            () => endpoint.State is not DtlsState.Handshaking and not DtlsState.New, TimeSpan.FromSeconds(20));
        Assert.True(endpoint.State == DtlsState.Connected, $"{endpoint.State} {endpoint.FailureReason} {endpoint.PeerAlert}\n{peer.Output}");
        Assert.True(peer.WaitForOutput("Keying material:", TimeSpan.FromSeconds(10)), peer.Output);

        var ourKeys = new byte[length];
        Assert.True(endpoint.TryExportSrtpKeyingMaterial(ourKeys, out _));
        Assert.Equal(Convert.ToHexString(ourKeys), Convert.ToHexString(peer.KeyingMaterial!));
        Assert.Equal(profile, endpoint.SrtpProfile);

        // Application data reaches s_server, which prints it.
        Assert.True(endpoint.SendApplicationData("ping-from-engine\n"u8));
        OpenSslPeer.Drive(endpoint, socket, new IPEndPoint(IPAddress.Loopback, port), () => peer.Output.Contains("ping-from-engine"), TimeSpan.FromSeconds(5));
        Assert.Contains("ping-from-engine", peer.Output);
    }

    internal static DtlsFingerprint FingerprintOf(string certPath)
    {
        using X509Certificate2 cert = X509Certificate2.CreateFromPem(File.ReadAllText(certPath));
        return DtlsFingerprint.Compute("sha-256", cert.RawData);
    }
}
