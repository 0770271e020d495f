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

    [Theory]
    [InlineData("pkcs1")]
    [InlineData("pkcs8")]
    public void Rsa_pem_pair_loads_as_an_rsa_identity(string keyFormat)
    {
        using var cert = DtlsCertificate.GenerateRsa();
        var rsa = (RSA)cert.PrivateKey;
        string certPath = Path.Combine(_dir, "c.pem"), keyPath = Path.Combine(_dir, "k.pem");
        File.WriteAllText(certPath, PemEncoding.WriteString("CERTIFICATE", cert.Der));
        File.WriteAllText(keyPath, keyFormat == "pkcs1" ? rsa.ExportRSAPrivateKeyPem() : rsa.ExportPkcs8PrivateKeyPem());
        using var loaded = DtlsCertificate.LoadPem(certPath, keyPath);
        Assert.True(loaded.IsRsa);
        Assert.Equal(2048, loaded.PrivateKey.KeySize);
        Assert.Equal(cert.Fingerprint.ToString(), loaded.Fingerprint.ToString());
    }

    [Fact]
    public void Rsa_pem_key_that_does_not_match_or_is_too_small_is_a_startup_error()
    {
        using var a = DtlsCertificate.GenerateRsa();
        using var b = DtlsCertificate.GenerateRsa();
        string certPath = Path.Combine(_dir, "c.pem"), keyPath = Path.Combine(_dir, "k.pem");
        File.WriteAllText(certPath, PemEncoding.WriteString("CERTIFICATE", a.Der));
        File.WriteAllText(keyPath, ((RSA)b.PrivateKey).ExportRSAPrivateKeyPem());
        var mismatch = Assert.ThrowsAny<CryptographicException>(() => DtlsCertificate.LoadPem(certPath, keyPath));
        Assert.Contains("does not match", mismatch.Message);

        // An EC key file for an RSA certificate: the PEM import itself refuses it.
        using var ec = DtlsCertificate.Generate();
        File.WriteAllText(keyPath, ec.PrivateKey.ExportPkcs8PrivateKeyPem());
        Assert.ThrowsAny<Exception>(() => DtlsCertificate.LoadPem(certPath, keyPath));

        using var small = RSA.Create(1024);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=small", small, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var smallCert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(certPath, PemEncoding.WriteString("CERTIFICATE", smallCert.RawData));
        File.WriteAllText(keyPath, small.ExportRSAPrivateKeyPem());
        var tooSmall = Assert.ThrowsAny<CryptographicException>(() => DtlsCertificate.LoadPem(certPath, keyPath));
        Assert.Contains("1024 bits", tooSmall.Message);
    }
}
