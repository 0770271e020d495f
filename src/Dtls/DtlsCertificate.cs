using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Engine.Dtls.Crypto;

namespace Engine.Dtls;

/// <summary>
/// Our identity: the private key (ECDSA, the default we generate, or RSA from a DTLSCER/DTLSKEY pair),
/// the certificate DER we send, and its SDP fingerprint.
/// </summary>
public sealed class DtlsCertificate : IDisposable
{
    /// <summary>Any key and DER; tests use it to present keys the public factories refuse.</summary>
    internal DtlsCertificate(AsymmetricAlgorithm key, byte[] der)
    {
        PrivateKey = key;
        Der = der;
        Fingerprint = DtlsFingerprint.Compute("sha-256", der);
    }

    /// <summary>An <see cref="ECDsa"/> or an <see cref="RSA"/> (see <see cref="IsRsa"/>).</summary>
    public AsymmetricAlgorithm PrivateKey { get; }

    /// <summary>True for an RSA key: the server then negotiates ECDHE_RSA suites and signs with RSA.</summary>
    public bool IsRsa => PrivateKey is RSA;

    public byte[] Der { get; }

    /// <summary>SHA-256 fingerprint for the SDP answer: <c>a=fingerprint:{Fingerprint}</c>.</summary>
    public DtlsFingerprint Fingerprint { get; }

    /// <summary>A fresh self-signed P-256 certificate; browsers only check the fingerprint (RFC 8827 §6.5).</summary>
    public static DtlsCertificate Generate(string subject = "CN=engine", int validDays = 30)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using X509Certificate2 cert = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(validDays));
        return new DtlsCertificate(key, cert.RawData);
    }

    /// <summary>A fresh self-signed RSA certificate of 2048 to 4096 bits (what GStreamer and many legacy files use).</summary>
    public static DtlsCertificate GenerateRsa(int keySizeBits = 2048, string subject = "CN=engine", int validDays = 30)
    {
        CheckRsaSize(keySizeBits);
        var key = RSA.Create(keySizeBits);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var now = DateTimeOffset.UtcNow;
        using X509Certificate2 cert = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(validDays));
        return new DtlsCertificate(key, cert.RawData);
    }

    /// <summary>
    /// Loads a PEM certificate and its PEM private key (legacy DTLSCER/DTLSKEY): EC (SEC1 or PKCS#8) or
    /// RSA of 2048 to 4096 bits (PKCS#1 or PKCS#8). Throws on bad files: a start-up error.
    /// </summary>
    public static DtlsCertificate LoadPem(string certificatePath, string keyPath)
    {
        using X509Certificate2 cert = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));
        string keyPem = File.ReadAllText(keyPath);
        using RSA? certRsa = cert.GetRSAPublicKey();
        if (certRsa != null)
        {
            var rsa = RSA.Create();
            try
            {
                rsa.ImportFromPem(keyPem);
                CheckRsaSize(certRsa.KeySize);
                if (!certRsa.ExportParameters(false).Modulus.AsSpan().SequenceEqual(rsa.ExportParameters(false).Modulus))
                    throw new CryptographicException("DTLS private key does not match the certificate");
            }
            catch
            {
                rsa.Dispose();
                throw;
            }
            return new DtlsCertificate(rsa, cert.RawData);
        }
        using ECDsa? certKey = cert.GetECDsaPublicKey();
        if (certKey == null)
            throw new CryptographicException("DTLS certificate must carry an ECDSA or RSA key");
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(keyPem);
            if (!certKey.ExportParameters(false).Q.X.AsSpan().SequenceEqual(key.ExportParameters(false).Q.X))
                throw new CryptographicException("DTLS private key does not match the certificate");
        }
        catch
        {
            key.Dispose();
            throw;
        }
        return new DtlsCertificate(key, cert.RawData);
    }

    private static void CheckRsaSize(int bits)
    {
        if (bits < PeerVerifyKey.MinRsaBits || bits > PeerVerifyKey.MaxRsaBits)
            throw new CryptographicException($"DTLS RSA key has {bits} bits; {PeerVerifyKey.MinRsaBits} to {PeerVerifyKey.MaxRsaBits} are accepted");
    }

    /// <summary>
    /// A digitally-signed struct's signature (RFC 5246 §4.7) for a TLS SignatureScheme: 0x0403 for an EC
    /// key; 0x0401, 0x0501, 0x0601 (PKCS#1 v1.5) or 0x0804 (PSS) for an RSA key.
    /// </summary>
    internal byte[] Sign(ushort scheme, ReadOnlySpan<byte> data)
    {
        if (PrivateKey is not RSA rsa) return SignSha256(data);
        (HashAlgorithmName hash, RSASignaturePadding padding) = scheme switch
        {
            0x0501 => (HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1),
            0x0601 => (HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1),
            0x0804 => (HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            _ => (HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        };
        return rsa.SignData(data, hash, padding);
    }

    private EcKeyHandle? _native;
    private bool _nativeTried;
    private readonly object _nativeLock = new();

    /// <summary>A DER ECDSA signature over SHA-256(<paramref name="data"/>) (TLS scheme 0x0403).</summary>
    internal byte[] SignSha256(ReadOnlySpan<byte> data)
    {
        var ec = (ECDsa)PrivateKey;
        if (EcBackend.UseLibCrypto && NativeKey() is { } key)
        {
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(data, digest);
            Span<byte> signature = stackalloc byte[160];
            int n = LibCrypto.Sign(key, digest, signature);
            if (n > 0) return signature[..n].ToArray();
        }
        return ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    // The private key copied into an EC_KEY once: signing through it skips .NET's per-call EVP_PKEY work.
    private EcKeyHandle? NativeKey()
    {
        lock (_nativeLock)
        {
            if (_nativeTried) return _native;
            _nativeTried = true;
            if (PrivateKey is not ECDsa ec) return null;
            try
            {
                ECParameters p = ec.ExportParameters(includePrivateParameters: true);
                Span<byte> point = stackalloc byte[EcBackend.MaxPointLength];
                int length = EcBackend.WritePoint(p, point, out int nid);
                if (length > 0 && p.D != null)
                    _native = LibCrypto.ImportPrivate(nid, p.D, point[..length]);
                if (p.D != null)
                    CryptographicOperations.ZeroMemory(p.D);
            }
            catch (CryptographicException)
            {
                // Not exportable (a hardware or platform key): .NET signs.
            }
            return _native;
        }
    }

    public void Dispose()
    {
        PrivateKey.Dispose();
        lock (_nativeLock)
        {
            _native?.Dispose();
            _native = null;
            _nativeTried = true;
        }
    }
}
