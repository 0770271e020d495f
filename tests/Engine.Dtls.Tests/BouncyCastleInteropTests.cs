using System.Diagnostics;
using Engine.Dtls;
using Org.BouncyCastle.Crypto.Tls;
using Org.BouncyCastle.Security;
using BcSuite = Org.BouncyCastle.Crypto.Tls.CipherSuite;
using BcProfile = Org.BouncyCastle.Crypto.Tls.SrtpProtectionProfile;

namespace Engine.Dtls.Tests;

/// <summary>Handshakes with Portable.BouncyCastle 1.8.10's DTLS client and server; exported SRTP keys must match.</summary>
public class BouncyCastleInteropTests
{
    public static TheoryData<int, int> Cases => new()
    {
        { BcSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, BcProfile.SRTP_AEAD_AES_128_GCM },
        { BcSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, BcProfile.SRTP_AES128_CM_HMAC_SHA1_80 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Our_server_with_bouncycastle_client(int suite, int profile)
    {
        using var ours = DtlsCertificate.Generate();
        using var theirs = DtlsCertificate.Generate();
        var client = new BouncyDtlsClient(new BouncyIdentity(theirs), [suite], [profile]);
        using var server = new DtlsEndpoint(DtlsRole.Server, ours, new DtlsOptions { RemoteFingerprint = theirs.Fingerprint });
        var transport = new QueueTransport();
        var bouncy = Task.Run(() => new DtlsClientProtocol(new SecureRandom()).Connect(client, transport));
        server.Start(0);

        DtlsTransport theirTransport = Run(server, transport, bouncy);

        Assert.Equal(DtlsState.Connected, server.State);
        Assert.Equal((CipherSuite)suite, server.CipherSuite);
        Assert.Equal(profile, server.SrtpProfile);
        Assert.Equal(profile, client.SelectedProfile);
        Assert.Equal(ours.Der, client.ServerCertificateDer);
        AssertSameKeys(server, client.SrtpKeyingMaterial, profile);
        AssertApplicationData(server, transport, theirTransport);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Our_client_with_bouncycastle_server(int suite, int profile)
    {
        using var ours = DtlsCertificate.Generate();
        using var theirs = DtlsCertificate.Generate();
        var bcServer = new BouncyDtlsServer(new BouncyIdentity(theirs), [suite], [profile]);
        using var client = new DtlsEndpoint(DtlsRole.Client, ours, new DtlsOptions { RemoteFingerprint = theirs.Fingerprint });
        var transport = new QueueTransport();
        var bouncy = Task.Run(() => new DtlsServerProtocol(new SecureRandom()).Accept(bcServer, transport));
        client.Start(0);

        DtlsTransport theirTransport = Run(client, transport, bouncy);

        Assert.Equal(DtlsState.Connected, client.State);
        Assert.Equal(profile, client.SrtpProfile);
        Assert.Equal(ours.Der, bcServer.ClientCertificateDer);
        AssertSameKeys(client, bcServer.SrtpKeyingMaterial, profile);
        AssertApplicationData(client, transport, theirTransport);
    }

    // server's key RSA, client's key RSA, suite (it follows the server's key)
    public static TheoryData<bool, bool, int> RsaCases => new()
    {
        { true, true, BcSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 },
        { true, false, BcSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 },
        { false, true, BcSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 },
    };

    [Theory]
    [MemberData(nameof(RsaCases))]
    public void Our_rsa_or_ec_server_with_bouncycastle_client(bool serverRsa, bool clientRsa, int suite)
    {
        using var ours = serverRsa ? DtlsCertificate.GenerateRsa() : DtlsCertificate.Generate();
        using var theirs = clientRsa ? DtlsCertificate.GenerateRsa() : DtlsCertificate.Generate();
        var client = new BouncyDtlsClient(new BouncyIdentity(theirs), [suite], [BcProfile.SRTP_AEAD_AES_128_GCM]);
        using var server = new DtlsEndpoint(DtlsRole.Server, ours, new DtlsOptions { RemoteFingerprint = theirs.Fingerprint });
        var transport = new QueueTransport();
        var bouncy = Task.Run(() => new DtlsClientProtocol(new SecureRandom()).Connect(client, transport));
        server.Start(0);

        DtlsTransport theirTransport = Run(server, transport, bouncy);

        Assert.Equal(DtlsState.Connected, server.State);
        Assert.Equal((CipherSuite)suite, server.CipherSuite);
        Assert.Equal(ours.Der, client.ServerCertificateDer);
        Assert.Equal(theirs.Der, server.RemoteCertificate);
        AssertSameKeys(server, client.SrtpKeyingMaterial, BcProfile.SRTP_AEAD_AES_128_GCM);
        AssertApplicationData(server, transport, theirTransport);
    }

    [Theory]
    [MemberData(nameof(RsaCases))]
    public void Our_rsa_or_ec_client_with_bouncycastle_server(bool serverRsa, bool clientRsa, int suite)
    {
        using var ours = clientRsa ? DtlsCertificate.GenerateRsa() : DtlsCertificate.Generate();
        using var theirs = serverRsa ? DtlsCertificate.GenerateRsa() : DtlsCertificate.Generate();
        var bcServer = new BouncyDtlsServer(new BouncyIdentity(theirs), [suite], [BcProfile.SRTP_AEAD_AES_128_GCM]);
        using var client = new DtlsEndpoint(DtlsRole.Client, ours, new DtlsOptions { RemoteFingerprint = theirs.Fingerprint });
        var transport = new QueueTransport();
        var bouncy = Task.Run(() => new DtlsServerProtocol(new SecureRandom()).Accept(bcServer, transport));
        client.Start(0);

        DtlsTransport theirTransport = Run(client, transport, bouncy);

        Assert.Equal(DtlsState.Connected, client.State);
        Assert.Equal((CipherSuite)suite, client.CipherSuite);
        Assert.Equal(ours.Der, bcServer.ClientCertificateDer);
        Assert.Equal(theirs.Der, client.RemoteCertificate);
        AssertSameKeys(client, bcServer.SrtpKeyingMaterial, BcProfile.SRTP_AEAD_AES_128_GCM);
        AssertApplicationData(client, transport, theirTransport);
    }

    private static DtlsTransport Run(DtlsEndpoint ours, QueueTransport transport, Task<DtlsTransport> bouncy)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[4096];
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && !(bouncy.IsCompleted && ours.State != DtlsState.Handshaking))
        {
            long now = clock.Elapsed.Ticks / 10;
            ours.HandleTimeout(now);
            while (ours.TryPollTransmit(buffer, out int n)) transport.ToBouncy.Add(buffer.AsSpan(0, n).ToArray());
            if (transport.FromBouncy.TryDequeue(out byte[]? d)) ours.HandleDatagram(d, now);
            else Thread.Sleep(1);
        }
        while (ours.TryPollTransmit(buffer, out int m)) transport.ToBouncy.Add(buffer.AsSpan(0, m).ToArray());
        Assert.True(bouncy.IsCompleted, $"BouncyCastle still handshaking; ours {ours.State} {ours.FailureReason}");
        if (bouncy.IsFaulted) throw new Xunit.Sdk.XunitException($"BouncyCastle failed: {bouncy.Exception} ours {ours.State} {ours.FailureReason}");
        return bouncy.Result;
    }

    private static void AssertSameKeys(DtlsEndpoint ours, byte[]? theirKeys, int profile)
    {
        int length = Engine.Dtls.SrtpProtectionProfile.GetKeyingMaterialLength((ushort)profile);
        var ourKeys = new byte[length];
        Assert.True(ours.TryExportSrtpKeyingMaterial(ourKeys, out int n));
        Assert.Equal(length, n);
        Assert.NotNull(theirKeys);
        Assert.Equal(Convert.ToHexString(theirKeys), Convert.ToHexString(ourKeys));
    }

    private static void AssertApplicationData(DtlsEndpoint ours, QueueTransport transport, DtlsTransport theirs)
    {
        byte[] hello = "hello from bouncy"u8.ToArray();
        theirs.Send(hello, 0, hello.Length);
        Assert.True(transport.FromBouncy.TryDequeue(out byte[]? record));
        ours.HandleDatagram(record, 0);
        var plain = new byte[100];
        Assert.True(ours.TryPollApplicationData(plain, out int n));
        Assert.Equal(hello, plain.AsSpan(0, n).ToArray());

        Assert.True(ours.SendApplicationData("hello from engine"u8));
        var wire = new byte[200];
        Assert.True(ours.TryPollTransmit(wire, out int w));
        transport.ToBouncy.Add(wire.AsSpan(0, w).ToArray());
        var received = new byte[100];
        int got = theirs.Receive(received, 0, received.Length, 5000);
        Assert.Equal("hello from engine"u8.ToArray(), received.AsSpan(0, got).ToArray());
    }
}
