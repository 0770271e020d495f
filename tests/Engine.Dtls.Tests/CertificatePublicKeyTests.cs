using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Engine.Dtls;
using Engine.Dtls.Crypto;

namespace Engine.Dtls.Tests;

/// <summary>Our SubjectPublicKeyInfo reader against what X509Certificate2 reads from the same DER.</summary>
public class CertificatePublicKeyTests
{
    [Fact]
    public void Reads_the_same_p256_point_as_the_platform()
    {
        using var cert = DtlsCertificate.Generate();
        Assert.True(CertificatePublicKey.TryRead(cert.Der, out ECParameters parameters));
        ECParameters expected = ((ECDsa)cert.PrivateKey).ExportParameters(false);
        Assert.Equal(ECCurve.NamedCurves.nistP256.Oid.Value, parameters.Curve.Oid.Value);
        Assert.Equal(expected.Q.X, parameters.Q.X);
        Assert.Equal(expected.Q.Y, parameters.Q.Y);
    }

    [Theory]
    [InlineData("nistP384")]
    [InlineData("nistP521")]
    public void Reads_other_nist_curves(string curveName)
    {
        using var key = ECDsa.Create(ECCurve.CreateFromFriendlyName(curveName));
        byte[] der = SelfSigned(new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256));
        Assert.True(CertificatePublicKey.TryRead(der, out ECParameters parameters));
        Assert.Equal(key.ExportParameters(false).Q.X, parameters.Q.X);
        using ECDsa imported = ECDsa.Create(parameters);
        byte[] signature = key.SignData("x"u8, HashAlgorithmName.SHA256);
        Assert.True(imported.VerifyData("x"u8, signature, HashAlgorithmName.SHA256));
    }

    [Fact]
    public void Rejects_an_rsa_certificate()
    {
        using var rsa = RSA.Create(2048);
        byte[] der = SelfSigned(new CertificateRequest("CN=x", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.False(CertificatePublicKey.TryRead(der, out _));
    }

    [Theory]
    [InlineData(2048)]
    [InlineData(4096)]
    public void Reads_the_same_rsa_modulus_and_exponent_as_the_platform(int bits)
    {
        using var rsa = RSA.Create(bits);
        byte[] der = SelfSigned(new CertificateRequest("CN=x", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        Assert.True(CertificatePublicKey.TryReadRsa(der, out ReadOnlySpan<byte> modulus, out ReadOnlySpan<byte> exponent));
        RSAParameters expected = rsa.ExportParameters(false);
        Assert.Equal(expected.Modulus, modulus.ToArray());
        Assert.Equal(expected.Exponent, exponent.ToArray());
        Assert.Equal(bits, CertificatePublicKey.BitLength(modulus));
        using var cert = DtlsCertificate.Generate();
        Assert.False(CertificatePublicKey.TryReadRsa(cert.Der, out _, out _));
    }

    [Fact]
    public void Rejects_every_rsa_truncation_and_garbage_without_throwing()
    {
        using var rsa = RSA.Create(2048);
        byte[] der = SelfSigned(new CertificateRequest("CN=x", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        for (int n = 0; n < der.Length; n++) Assert.False(CertificatePublicKey.TryReadRsa(der.AsSpan(0, n), out _, out _));
        var random = new Random(11);
        for (int i = 0; i < 2000; i++)
        {
            byte[] mutated = (byte[])der.Clone();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            CertificatePublicKey.TryReadRsa(mutated, out _, out _); // any answer, never an exception
        }
    }

    [Fact]
    public void Rejects_every_truncation_and_garbage_without_throwing()
    {
        using var cert = DtlsCertificate.Generate();
        byte[] der = cert.Der;
        for (int n = 0; n < der.Length; n++) Assert.False(CertificatePublicKey.TryRead(der.AsSpan(0, n), out _));
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            byte[] mutated = (byte[])der.Clone();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            CertificatePublicKey.TryRead(mutated, out _); // any answer, never an exception
        }
        Assert.False(CertificatePublicKey.TryRead([0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF], out _));
        Assert.False(CertificatePublicKey.TryRead([0x30, 0x80, 0x00, 0x00], out _));
    }

    private static byte[] SelfSigned(CertificateRequest request)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 cert = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        return cert.RawData;
    }
}
