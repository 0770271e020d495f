using System.Security.Cryptography;
using Engine.Dtls.Crypto;

namespace Engine.Dtls.Tests;

/// <summary>RSA verification through libcrypto and through .NET, against signatures .NET makes; both refuse the same bad input.</summary>
[Collection("EcBackend")]
public class RsaBackendTests
{
    private static readonly Lazy<RSA> Signer = new(() => RSA.Create(2048));

    [Fact]
    public void LibCrypto_rsa_functions_load_on_this_machine()
    {
        Assert.True(LibCryptoRsa.IsAvailable);
    }

    [Theory]
    [InlineData(false, (ushort)0x0401)]
    [InlineData(false, (ushort)0x0501)]
    [InlineData(false, (ushort)0x0601)]
    [InlineData(false, (ushort)0x0804)]
    [InlineData(true, (ushort)0x0401)]
    [InlineData(true, (ushort)0x0501)]
    [InlineData(true, (ushort)0x0601)]
    [InlineData(true, (ushort)0x0804)]
    public void Verifies_dotnet_signatures_and_refuses_tampering(bool forceDotNet, ushort scheme)
    {
        RSA signer = Signer.Value;
        (HashAlgorithmName hash, RSASignaturePadding padding) = scheme switch
        {
            0x0501 => (HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1),
            0x0601 => (HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1),
            0x0804 => (HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            _ => (HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        };
        byte[] data = RandomNumberGenerator.GetBytes(500);
        byte[] signature = signer.SignData(data, hash, padding);
        RSAParameters p = signer.ExportParameters(false);
        using PeerVerifyKey? key = WithBackend(forceDotNet, () => PeerVerifyKey.TryCreateRsa(p.Modulus, p.Exponent));
        Assert.NotNull(key);
        Assert.True(key.IsRsa);
        Assert.True(key.VerifyScheme(scheme, data, signature));
        byte[] otherData = (byte[])data.Clone();
        otherData[3] ^= 0x10;
        Assert.False(key.VerifyScheme(scheme, otherData, signature));
        byte[] bad = (byte[])signature.Clone();
        bad[100] ^= 1;
        Assert.False(key.VerifyScheme(scheme, data, bad));
        Assert.False(key.VerifyScheme(scheme, data, signature[..^1]));
        Assert.False(key.VerifyScheme(scheme, data, [0, .. signature]));
        Assert.False(key.VerifyScheme(scheme, data, []));
        Assert.False(key.VerifyScheme(scheme, data, new byte[256]));
        // The same bytes under another scheme, or an ECDSA one, do not verify.
        Assert.False(key.VerifyScheme(scheme == 0x0804 ? (ushort)0x0401 : (ushort)0x0804, data, signature));
        Assert.False(key.VerifyScheme(0x0403, data, signature));
        Assert.False(key.VerifyScheme(0x0805, data, signature));
        Assert.False(key.Verify(data, signature, HashAlgorithmName.SHA256));
        // No error left queued: the key still verifies.
        Assert.True(key.VerifyScheme(scheme, data, signature));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Our_rsa_certificate_signs_what_both_backends_verify(bool forceDotNet)
    {
        using var cert = DtlsCertificate.GenerateRsa();
        var rsa = (RSA)cert.PrivateKey;
        RSAParameters p = rsa.ExportParameters(false);
        using PeerVerifyKey? key = WithBackend(forceDotNet, () => PeerVerifyKey.TryCreateRsa(p.Modulus, p.Exponent));
        Assert.NotNull(key);
        byte[] data = RandomNumberGenerator.GetBytes(700);
        foreach (ushort scheme in new ushort[] { 0x0401, 0x0501, 0x0601, 0x0804 })
        {
            byte[] signature = cert.Sign(scheme, data);
            Assert.Equal(256, signature.Length);
            Assert.True(key.VerifyScheme(scheme, data, signature), $"scheme {scheme:X4}");
        }
    }

    [Fact]
    public void Key_sizes_and_exponents_outside_what_we_accept_are_refused()
    {
        static byte[] Modulus(int bits)
        {
            var m = new byte[(bits + 7) / 8];
            RandomNumberGenerator.Fill(m);
            m[0] |= (byte)(1 << ((bits - 1) % 8)); // top bit set: exactly `bits` long
            m[0] &= (byte)(0xFF >> (7 - (bits - 1) % 8));
            m[^1] |= 1;
            return m;
        }
        byte[] f4 = [1, 0, 1];
        Assert.True(PeerVerifyKey.IsAcceptableRsa(Modulus(2048), f4));
        Assert.True(PeerVerifyKey.IsAcceptableRsa(Modulus(4096), f4));
        Assert.True(PeerVerifyKey.IsAcceptableRsa(Modulus(3072), [3]));
        Assert.False(PeerVerifyKey.IsAcceptableRsa(Modulus(2047), f4));
        Assert.False(PeerVerifyKey.IsAcceptableRsa(Modulus(1024), f4));
        Assert.False(PeerVerifyKey.IsAcceptableRsa(Modulus(4097), f4));
        Assert.False(PeerVerifyKey.IsAcceptableRsa(Modulus(8192), f4));
        Assert.False(PeerVerifyKey.IsAcceptableRsa(Modulus(2048), [1]));
        Assert.False(PeerVerifyKey.IsAcceptableRsa(Modulus(2048), [1, 0, 0]));
        Assert.False(PeerVerifyKey.IsAcceptableRsa(Modulus(2048), []));
        Assert.False(PeerVerifyKey.IsAcceptableRsa(Modulus(2048), new byte[9]));
        Assert.Null(PeerVerifyKey.TryCreateRsa(Modulus(1024), f4));
        Assert.Equal(2047, CertificatePublicKey.BitLength(Modulus(2047)));
    }

    private static T WithBackend<T>(bool forceDotNet, Func<T> f)
    {
        EcBackend.ForceDotNet = forceDotNet;
        try
        {
            return f();
        }
        finally
        {
            EcBackend.ForceDotNet = false;
        }
    }
}
