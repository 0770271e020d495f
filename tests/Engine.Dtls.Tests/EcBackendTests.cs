using System.Security.Cryptography;
using Engine.Dtls.Crypto;
using Xunit;

namespace Engine.Dtls.Tests;

/// <summary>
/// The direct libcrypto EC path against .NET's own ECDiffieHellman/ECDsa: each must accept what the
/// other makes, and both must refuse the same bad inputs.
/// </summary>
[Collection("EcBackend")]
public class EcBackendTests
{
    [Fact]
    public void LibCrypto_loads_on_this_machine()
    {
        // Debian 12 ships libcrypto.so.3; without it every test below would only test the fallback.
        Assert.True(LibCrypto.IsAvailable);
        Assert.True(EcBackend.UseLibCrypto);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ecdh_agrees_with_dotnet(bool forceDotNet)
    {
        var ours = Create(forceDotNet, out byte[] ourPoint);
        using var _ = ours;
        using var theirs = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        ECParameters q = theirs.ExportParameters(false);
        byte[] theirPoint = [4, .. q.Q.X!, .. q.Q.Y!];

        var secret = new byte[32];
        Assert.True(ours.TryDerive(theirPoint, secret));

        using var ourPublic = ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = ourPoint[1..33], Y = ourPoint[33..] },
        });
        byte[] expected = theirs.DeriveRawSecretAgreement(ourPublic.PublicKey);
        Assert.Equal(expected, secret);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ecdh_refuses_points_off_the_curve_and_malformed(bool forceDotNet)
    {
        using var ours = Create(forceDotNet, out byte[] point);
        var secret = new byte[32];
        byte[] offCurve = (byte[])point.Clone();
        offCurve[64] ^= 1;
        Assert.False(ours.TryDerive(offCurve, secret));
        byte[] compressed = [(byte)(2 + (point[64] & 1)), .. point[1..33]];
        Assert.False(ours.TryDerive(compressed, secret));
        Assert.False(ours.TryDerive(point[..64], secret));
        Assert.False(ours.TryDerive(new byte[65], secret));
        // x = y = 0 with the uncompressed prefix: not on P-256.
        byte[] zero = new byte[65];
        zero[0] = 4;
        Assert.False(ours.TryDerive(zero, secret));
        // The key still works after the refusals (no error left queued).
        using var theirs = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        ECParameters q = theirs.ExportParameters(false);
        Assert.True(ours.TryDerive([4, .. q.Q.X!, .. q.Q.Y!], secret));
    }

    [Theory]
    [InlineData(false, "nistP256")]
    [InlineData(true, "nistP256")]
    [InlineData(false, "nistP384")]
    [InlineData(false, "nistP521")]
    public void Verify_accepts_dotnet_signatures_and_refuses_tampering(bool forceDotNet, string curve)
    {
        using var signer = ECDsa.Create(ECCurve.CreateFromFriendlyName(curve));
        byte[] data = RandomNumberGenerator.GetBytes(300);
        foreach (var hash in new[] { HashAlgorithmName.SHA256, HashAlgorithmName.SHA384, HashAlgorithmName.SHA512 })
        {
            byte[] signature = signer.SignData(data, hash, DSASignatureFormat.Rfc3279DerSequence);
            using var key = WithBackend(forceDotNet, () => PeerVerifyKey.TryCreate(signer.ExportParameters(false)));
            Assert.NotNull(key);
            Assert.True(key.Verify(data, signature, hash));
            byte[] otherData = (byte[])data.Clone();
            otherData[7] ^= 0x20;
            Assert.False(key.Verify(otherData, signature, hash));
            byte[] badSignature = (byte[])signature.Clone();
            badSignature[^1] ^= 1;
            Assert.False(key.Verify(data, badSignature, hash));
            Assert.False(key.Verify(data, signature[..^3], hash));
            Assert.False(key.Verify(data, [], hash));
            Assert.True(key.Verify(data, signature, hash));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Verify_key_refuses_a_point_off_the_curve(bool forceDotNet)
    {
        using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        ECParameters p = signer.ExportParameters(false);
        p.Q.Y![31] ^= 1;
        Assert.Null(WithBackend(forceDotNet, () => PeerVerifyKey.TryCreate(p)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Certificate_signatures_verify_with_dotnet(bool forceDotNet)
    {
        using var certificate = DtlsCertificate.Generate();
        byte[] data = RandomNumberGenerator.GetBytes(1000);
        byte[] signature = WithBackend(forceDotNet, () => certificate.SignSha256(data));
        Assert.True(((ECDsa)certificate.PrivateKey).VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        // ECDSA is randomised: two signatures differ, both verify.
        byte[] second = WithBackend(forceDotNet, () => certificate.SignSha256(data));
        Assert.NotEqual(signature, second);
        Assert.True(((ECDsa)certificate.PrivateKey).VerifyData(data, second, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public void Handshake_completes_on_the_dotnet_fallback_too()
    {
        WithBackend(true, () =>
        {
            using var pair = new DtlsPair();
            Assert.True(pair.Handshake(), $"client {pair.Client.FailureReason}, server {pair.Server.FailureReason}");
            var c = new byte[60];
            var s = new byte[60];
            Assert.True(pair.Client.TryExportSrtpKeyingMaterial(c, out int n));
            Assert.True(pair.Server.TryExportSrtpKeyingMaterial(s, out _));
            Assert.Equal(c[..n], s[..n]);
            return 0;
        });
    }

    private static EphemeralEcdhKey Create(bool forceDotNet, out byte[] point)
    {
        var p = new byte[EphemeralEcdhKey.PointLength];
        var key = WithBackend(forceDotNet, () => EphemeralEcdhKey.Create(p));
        point = p;
        Assert.Equal(4, point[0]);
        return key;
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
