using System.Security.Cryptography;

namespace Engine.Dtls.Crypto;

/// <summary>The peer's certificate key (ECDSA or RSA), for verifying its ServerKeyExchange or CertificateVerify.</summary>
internal sealed class PeerVerifyKey : IDisposable
{
    public const int MinRsaBits = 2048, MaxRsaBits = 4096;

    private readonly EcKeyHandle? _ecNative;
    private readonly ECDsa? _ecManaged;
    private readonly RsaKeyHandle? _rsaNative;
    private readonly RSA? _rsaManaged;
    private readonly int _rsaLength;

    private PeerVerifyKey(EcKeyHandle? ecNative, ECDsa? ecManaged)
    {
        _ecNative = ecNative;
        _ecManaged = ecManaged;
    }

    private PeerVerifyKey(RsaKeyHandle? rsaNative, RSA? rsaManaged, int modulusLength)
    {
        _rsaNative = rsaNative;
        _rsaManaged = rsaManaged;
        _rsaLength = modulusLength;
        IsRsa = true;
    }

    public bool IsRsa { get; }

    /// <summary>Null when the point is not on its curve.</summary>
    public static PeerVerifyKey? TryCreate(in ECParameters key)
    {
        Span<byte> point = stackalloc byte[EcBackend.MaxPointLength];
        int length;
        if (EcBackend.UseLibCrypto && (length = EcBackend.WritePoint(key, point, out int nid)) > 0)
        {
            var native = LibCrypto.ImportPublic(nid, point[..length]);
            return native == null ? null : new PeerVerifyKey(native, null);
        }
        try
        {
            return new PeerVerifyKey(null, ECDsa.Create(key));
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>
    /// An RSA key from the certificate's modulus and exponent (magnitudes, no sign byte). Null when the
    /// modulus is outside 2048..4096 bits, the exponent is even or 1, or the backend refuses the key.
    /// </summary>
    public static PeerVerifyKey? TryCreateRsa(ReadOnlySpan<byte> modulus, ReadOnlySpan<byte> exponent)
    {
        if (!IsAcceptableRsa(modulus, exponent)) return null;
        if (EcBackend.UseLibCrypto && LibCryptoRsa.IsAvailable)
        {
            var native = LibCryptoRsa.ImportPublic(modulus, exponent);
            return native == null ? null : new PeerVerifyKey(native, null, modulus.Length);
        }
        RSA rsa = RSA.Create();
        try
        {
            rsa.ImportParameters(new RSAParameters { Modulus = modulus.ToArray(), Exponent = exponent.ToArray() });
            return new PeerVerifyKey(null, rsa, modulus.Length);
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            return null;
        }
    }

    /// <summary>RFC 8017 §3.1: an odd exponent of at least 3; the modulus within the sizes we accept.</summary>
    public static bool IsAcceptableRsa(ReadOnlySpan<byte> modulus, ReadOnlySpan<byte> exponent)
    {
        int bits = CertificatePublicKey.BitLength(modulus);
        return bits >= MinRsaBits && bits <= MaxRsaBits
            && exponent.Length is > 0 and <= 8 && (exponent[^1] & 1) == 1 && !(exponent.Length == 1 && exponent[0] == 1);
    }

    /// <summary>
    /// A TLS SignatureScheme (RFC 8446 §4.2.3, as used by TLS 1.2) over <paramref name="data"/>: ECDSA
    /// 0x0403/0x0503/0x0603 for an EC key, PKCS#1 v1.5 0x0401/0x0501/0x0601 or PSS 0x0804 for RSA.
    /// False for a scheme that does not fit the key or that we did not offer.
    /// </summary>
    public bool VerifyScheme(ushort scheme, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (!IsRsa)
        {
            HashAlgorithmName ecHash = scheme switch
            {
                0x0403 => HashAlgorithmName.SHA256,
                0x0503 => HashAlgorithmName.SHA384,
                0x0603 => HashAlgorithmName.SHA512,
                _ => default,
            };
            return ecHash.Name != null && Verify(data, signature, ecHash);
        }
        (HashAlgorithmName hash, int nid, bool pss) = scheme switch
        {
            0x0401 => (HashAlgorithmName.SHA256, LibCryptoRsa.NidSha256, false),
            0x0501 => (HashAlgorithmName.SHA384, LibCryptoRsa.NidSha384, false),
            0x0601 => (HashAlgorithmName.SHA512, LibCryptoRsa.NidSha512, false),
            0x0804 => (HashAlgorithmName.SHA256, LibCryptoRsa.NidSha256, true),
            _ => (default, 0, false),
        };
        // RFC 8017 §8.1.2/§8.2.2 step 1: a signature is exactly as long as the modulus.
        if (nid == 0 || signature.Length != _rsaLength) return false;
        if (_rsaManaged != null)
        {
            try
            {
                return _rsaManaged.VerifyData(data, signature, hash, pss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1);
            }
            catch (CryptographicException)
            {
                return false;
            }
        }
        Span<byte> digest = stackalloc byte[64];
        int n = EcBackend.Hash(hash, data, digest);
        if (n == 0) return false;
        return pss
            ? LibCryptoRsa.VerifyPss(_rsaNative!, nid, digest[..n], signature)
            : LibCryptoRsa.VerifyPkcs1(_rsaNative!, nid, digest[..n], signature);
    }

    /// <summary>Checks a DER ECDSA signature over <paramref name="data"/> hashed with <paramref name="hash"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, HashAlgorithmName hash)
    {
        if (IsRsa) return false;
        if (_ecManaged != null) return _ecManaged.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
        Span<byte> digest = stackalloc byte[64];
        int n = EcBackend.Hash(hash, data, digest);
        return n > 0 && LibCrypto.Verify(_ecNative!, digest[..n], signature);
    }

    public void Dispose()
    {
        _ecNative?.Dispose();
        _ecManaged?.Dispose();
        _rsaNative?.Dispose();
        _rsaManaged?.Dispose();
    }
}
