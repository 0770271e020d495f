using System.Security.Cryptography;
using Engine.Dtls;

namespace Engine.Dtls.Tests;

public sealed class DtlsCertificateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dtls-cert-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Generated_certificate_is_p256_and_reloads_from_pem_with_the_same_fingerprint()
    {
        using var cert = DtlsCertificate.Generate();
        Assert.Equal(256, cert.PrivateKey.KeySize);
        string certPath = Path.Combine(_dir, "c.pem"), keyPath = Path.Combine(_dir, "k.pem");
        File.WriteAllText(certPath, PemEncoding.WriteString("CERTIFICATE", cert.Der));
        File.WriteAllText(keyPath, cert.PrivateKey.ExportPkcs8PrivateKeyPem());
        using var loaded = DtlsCertificate.LoadPem(certPath, keyPath);
        Assert.Equal(cert.Fingerprint.ToString(), loaded.Fingerprint.ToString());
        Assert.Equal(cert.Der, loaded.Der);
    }

    [Fact]
    public void Pem_key_that_does_not_match_the_certificate_is_a_startup_error()
    {
        using var a = DtlsCertificate.Generate();
        using var b = DtlsCertificate.Generate();
        string certPath = Path.Combine(_dir, "c.pem"), keyPath = Path.Combine(_dir, "k.pem");
        File.WriteAllText(certPath, PemEncoding.WriteString("CERTIFICATE", a.Der));
        File.WriteAllText(keyPath, ((ECDsa)b.PrivateKey).ExportECPrivateKeyPem());
        Assert.ThrowsAny<CryptographicException>(() => DtlsCertificate.LoadPem(certPath, keyPath));
    }
}
