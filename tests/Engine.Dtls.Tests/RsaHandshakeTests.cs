using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Engine.Dtls;
using Engine.Dtls.Crypto;
using Engine.Dtls.Handshake;
using Engine.Dtls.Record;

namespace Engine.Dtls.Tests;

/// <summary>
/// RSA certificates on either side of our own handshake, on both crypto backends (libcrypto and
/// .NET). Shares the backend switch with <see cref="EcBackendTests"/>, hence the collection.
/// </summary>
[Collection("EcBackend")]
public class RsaHandshakeTests
{
    // RSA key generation costs ~100 ms-1 s; one key of each kind serves every test (each gets its own DER copy).
    private static readonly Lazy<RSA> Rsa2048 = new(() => RSA.Create(2048));
    private static readonly Lazy<RSA> Rsa4096 = new(() => RSA.Create(4096));
    private static readonly Lazy<RSA> Rsa1024 = new(() => RSA.Create(1024));

    public static TheoryData<bool, bool, bool, CipherSuite> Cases
    {
        get
        {
            var data = new TheoryData<bool, bool, bool, CipherSuite>();
            foreach (bool bcl in new[] { false, true })
            {
                data.Add(true, false, bcl, CipherSuite.EcdheEcdsaAes128GcmSha256);  // RSA client (GStreamer) to our EC server
                data.Add(false, true, bcl, CipherSuite.EcdheRsaAes128GcmSha256);
                data.Add(true, true, bcl, CipherSuite.EcdheRsaAes128GcmSha256);
                data.Add(true, true, bcl, CipherSuite.EcdheRsaAes256GcmSha384);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Handshake_with_rsa_certificates_exports_the_same_srtp_keys(bool clientRsa, bool serverRsa, bool bcl, CipherSuite expected)
    {
        WithBackend(bcl, () =>
        {
            var options = expected == CipherSuite.EcdheRsaAes256GcmSha384 ? new DtlsOptions { CipherSuites = [expected] } : null;
            using var pair = new DtlsPair(options, options,
                clientCertificate: clientRsa ? RsaCertificate(Rsa2048.Value) : null,
                serverCertificate: serverRsa ? RsaCertificate(Rsa2048.Value) : null);
            Assert.Equal(clientRsa, pair.ClientCertificate.IsRsa);
            Assert.True(pair.Handshake(), $"client {pair.Client.State}/{pair.Client.FailureReason}, server {pair.Server.State}/{pair.Server.FailureReason}");
            Assert.Equal(expected, pair.Server.CipherSuite);
            Assert.Equal(expected, pair.Client.CipherSuite);
            AssertSameKeys(pair);
            Assert.Equal(pair.ServerCertificate.Der, pair.Client.RemoteCertificate);
            Assert.Equal(pair.ClientCertificate.Der, pair.Server.RemoteCertificate);
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rsa_4096_on_both_sides_completes(bool bcl)
    {
        WithBackend(bcl, () =>
        {
            using var pair = new DtlsPair(clientCertificate: RsaCertificate(Rsa4096.Value), serverCertificate: RsaCertificate(Rsa4096.Value));
            Assert.True(pair.Handshake(), $"client {pair.Client.FailureReason}, server {pair.Server.FailureReason}");
            Assert.Equal(CipherSuite.EcdheRsaAes128GcmSha256, pair.Server.CipherSuite);
            AssertSameKeys(pair);
        });
    }

    [Fact]
    public void Server_signs_its_key_exchange_and_the_client_its_certificate_verify_with_rsa_pkcs1_sha256()
    {
        // A large MTU keeps each message whole in one record, so the sniffer sees it in one piece.
        var options = new DtlsOptions { Mtu = 4000 };
        using var pair = new DtlsPair(options, options, clientCertificate: RsaCertificate(Rsa2048.Value), serverCertificate: RsaCertificate(Rsa2048.Value));
        var schemes = new Dictionary<HandshakeType, ushort>();
        pair.Sent = (_, datagram) =>
        {
            foreach ((HandshakeType type, byte[] body) in CompleteMessages(datagram))
            {
                if (type == HandshakeType.ServerKeyExchange) schemes[type] = (ushort)(body[4 + body[3]] << 8 | body[5 + body[3]]);
                if (type == HandshakeType.CertificateVerify) schemes[type] = (ushort)(body[0] << 8 | body[1]);
            }
        };
        Assert.True(pair.Handshake());
        Assert.Equal(0x0401, schemes[HandshakeType.ServerKeyExchange]);
        Assert.Equal(0x0401, schemes[HandshakeType.CertificateVerify]);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Rsa_1024_peer_certificate_is_refused_with_a_clear_reason(bool onServer, bool bcl)
    {
        WithBackend(bcl, () =>
        {
            using var pair = onServer
                ? new DtlsPair(serverCertificate: RsaCertificate(Rsa1024.Value))
                : new DtlsPair(clientCertificate: RsaCertificate(Rsa1024.Value));
            Assert.False(pair.Handshake());
            DtlsEndpoint judge = onServer ? pair.Client : pair.Server;
            DtlsEndpoint refused = onServer ? pair.Server : pair.Client;
            Assert.Equal(DtlsState.Failed, judge.State);
            Assert.Equal(DtlsFailureReason.UnsupportedKey, judge.FailureReason);
            Assert.Equal(AlertDescription.UnsupportedCertificate, refused.PeerAlert);
            Assert.Null(judge.RemoteCertificate);
        });
    }

    [Fact]
    public void Rsa_server_certificate_with_the_wrong_fingerprint_is_refused()
    {
        using var stranger = RsaCertificate(Rsa2048.Value);
        using var pair = new DtlsPair(new DtlsOptions { RemoteFingerprint = stranger.Fingerprint }, null, serverCertificate: RsaCertificate(Rsa2048.Value));
        Assert.False(pair.Handshake());
        Assert.Equal(DtlsFailureReason.BadCertificate, pair.Client.FailureReason);
        Assert.Equal(AlertDescription.BadCertificate, pair.Server.PeerAlert);
    }

    [Fact]
    public void Rsa_client_certificate_with_the_wrong_fingerprint_is_refused()
    {
        using var stranger = RsaCertificate(Rsa2048.Value);
        using var pair = new DtlsPair(null, new DtlsOptions { RemoteFingerprint = stranger.Fingerprint }, clientCertificate: RsaCertificate(Rsa2048.Value));
        Assert.False(pair.Handshake());
        Assert.Equal(DtlsFailureReason.BadCertificate, pair.Server.FailureReason);
        Assert.Equal(AlertDescription.BadCertificate, pair.Client.PeerAlert);
    }

    [Theory]
    [InlineData(HandshakeType.ServerKeyExchange, false)]
    [InlineData(HandshakeType.ServerKeyExchange, true)]
    [InlineData(HandshakeType.CertificateVerify, false)]
    [InlineData(HandshakeType.CertificateVerify, true)]
    public void Tampered_rsa_signature_fails_the_handshake_without_throwing(HandshakeType signedMessage, bool bcl)
    {
        WithBackend(bcl, () =>
        {
            using var pair = new DtlsPair(clientCertificate: RsaCertificate(Rsa2048.Value), serverCertificate: RsaCertificate(Rsa2048.Value));
            int tampered = 0;
            pair.Transform = (_, datagram) => FlipLastByteOf(datagram, signedMessage, ref tampered);
            Assert.False(pair.Handshake());
            Assert.Equal(1, tampered);
            DtlsEndpoint judge = signedMessage == HandshakeType.ServerKeyExchange ? pair.Client : pair.Server;
            DtlsEndpoint signer = signedMessage == HandshakeType.ServerKeyExchange ? pair.Server : pair.Client;
            Assert.Equal(DtlsFailureReason.BadSignature, judge.FailureReason);
            Assert.Equal(AlertDescription.DecryptError, signer.PeerAlert);
        });
    }

    /// <summary>As FailureTests' corruption run, with RSA on both sides: the bytes hit may be RSA DER or an RSA signature.</summary>
    [Fact]
    public void Corrupted_rsa_handshake_datagrams_never_throw_or_hang()
    {
        var random = new Random(4321);
        int completed = 0, failed = 0;
        for (int run = 0; run < 120; run++)
        {
            using var pair = new DtlsPair(clientCertificate: RsaCertificate(Rsa2048.Value), serverCertificate: RsaCertificate(Rsa2048.Value));
            int victim = random.Next(10);
            int index = 0;
            pair.Transform = (_, data) =>
            {
                if (index++ != victim) return data;
                byte[] copy = (byte[])data.Clone();
                switch (random.Next(3))
                {
                    case 0: copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8)); break;
                    case 1: copy = copy[..random.Next(copy.Length)]; break;
                    default: random.NextBytes(copy.AsSpan(random.Next(copy.Length))); break;
                }
                return copy;
            };
            pair.Handshake(2000);
            bool connected = pair.Client.State == DtlsState.Connected && pair.Server.State == DtlsState.Connected;
            bool failedCleanly = (pair.Client.State == DtlsState.Failed && pair.Client.FailureReason != DtlsFailureReason.None)
                || (pair.Server.State == DtlsState.Failed && pair.Server.FailureReason != DtlsFailureReason.None);
            Assert.True(connected || failedCleanly, $"run {run}: client {pair.Client.State}, server {pair.Server.State}");
            if (connected) completed++;
            else failed++;
        }
        Assert.True(completed > 40, $"{completed} completed, {failed} failed");
        Assert.True(failed > 0, $"{completed} completed, {failed} failed");
    }

    [Fact]
    public void Server_with_an_rsa_certificate_and_only_ecdsa_suites_fails_cleanly()
    {
        var ecdsaOnly = new DtlsOptions { CipherSuites = [CipherSuite.EcdheEcdsaAes128GcmSha256] };
        using var pair = new DtlsPair(null, ecdsaOnly, serverCertificate: RsaCertificate(Rsa2048.Value));
        Assert.False(pair.Handshake());
        Assert.Equal(DtlsFailureReason.HandshakeFailure, pair.Server.FailureReason);
    }

    [Fact]
    public void Generated_rsa_certificate_refuses_sizes_outside_2048_to_4096()
    {
        Assert.Throws<CryptographicException>(() => DtlsCertificate.GenerateRsa(1024));
        Assert.Throws<CryptographicException>(() => DtlsCertificate.GenerateRsa(8192));
        using var cert = DtlsCertificate.GenerateRsa();
        Assert.True(cert.IsRsa);
        Assert.Equal(2048, cert.PrivateKey.KeySize);
        Assert.False(DtlsCertificate.Generate().IsRsa);
    }

    /// <summary>A self-signed certificate over a shared key; the internal constructor takes any size (1024 included).</summary>
    internal static DtlsCertificate RsaCertificate(RSA shared)
    {
        var key = RSA.Create();
        key.ImportRSAPrivateKey(shared.ExportRSAPrivateKey(), out _);
        var request = new CertificateRequest($"CN=rsa-{Guid.NewGuid():N}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 cert = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        return new DtlsCertificate(key, cert.RawData);
    }

    private static void AssertSameKeys(DtlsPair pair)
    {
        var c = new byte[100];
        var s = new byte[100];
        Assert.True(pair.Client.TryExportSrtpKeyingMaterial(c, out int cl));
        Assert.True(pair.Server.TryExportSrtpKeyingMaterial(s, out int sl));
        Assert.Equal(cl, sl);
        Assert.Equal(c[..cl], s[..sl]);
        Assert.NotEqual(new byte[cl], c[..cl]);
    }

    /// <summary>Whole handshake messages in a datagram's clear records (fragments that are not whole are skipped).</summary>
    private static List<(HandshakeType, byte[])> CompleteMessages(byte[] datagram)
    {
        var messages = new List<(HandshakeType, byte[])>();
        ReadOnlySpan<byte> rest = datagram;
        while (DtlsRecordView.TryRead(rest, out DtlsRecordView record))
        {
            ReadOnlySpan<byte> data = record.Fragment;
            while (record.Epoch == 0 && record.ContentType == ContentType.Handshake && HandshakeFragmentView.TryRead(data, out HandshakeFragmentView f))
            {
                if (f.IsComplete) messages.Add((f.Type, f.Body.ToArray()));
                data = data[f.TotalLength..];
            }
            rest = rest[record.TotalLength..];
        }
        return messages;
    }

    /// <summary>Flips the last byte of the message (the end of its signature), in whichever fragment carries it; once.</summary>
    private static byte[] FlipLastByteOf(byte[] datagram, HandshakeType type, ref int tampered)
    {
        if (tampered > 0) return datagram;
        int offset = 0;
        while (offset < datagram.Length && DtlsRecordView.TryRead(datagram.AsSpan(offset), out DtlsRecordView record))
        {
            int inRecord = offset + DtlsRecordView.HeaderLength;
            ReadOnlySpan<byte> data = record.Fragment;
            while (record.Epoch == 0 && record.ContentType == ContentType.Handshake && HandshakeFragmentView.TryRead(data, out HandshakeFragmentView f))
            {
                if (f.Type == type && f.FragmentOffset + f.Body.Length == f.MessageLength)
                {
                    byte[] copy = (byte[])datagram.Clone();
                    copy[inRecord + f.TotalLength - 1] ^= 0x01;
                    tampered++;
                    return copy;
                }
                inRecord += f.TotalLength;
                data = data[f.TotalLength..];
            }
            offset += record.TotalLength;
        }
        return datagram;
    }

    private static void WithBackend(bool forceDotNet, Action test)
    {
        EcBackend.ForceDotNet = forceDotNet;
        try
        {
            test();
        }
        finally
        {
            EcBackend.ForceDotNet = false;
        }
    }
}
