using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Engine.Dtls.Crypto;

namespace Engine.Dtls;

/// <summary>Our ECDSA identity: the private key, the certificate DER we send, and its SDP fingerprint.</summary>
public sealed class DtlsCertificate : IDisposable
{
    private DtlsCertificate(ECDsa key, byte[] der)
    {
        PrivateKey = key;
        Der = der;
        Fingerprint = DtlsFingerprint.Compute("sha-256", der);
    }

    public ECDsa PrivateKey { get; }

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

    /// <summary>Loads a PEM certificate and its PEM EC private key (legacy DTLSCER/DTLSKEY). Throws on bad files: start-up error.</summary>
    public static DtlsCertificate LoadPem(string certificatePath, string keyPath)
    {
        using X509Certificate2 cert = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));
        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(keyPath));
        using ECDsa? certKey = cert.GetECDsaPublicKey();
        if (certKey == null)
            throw new CryptographicException("DTLS certificate must carry an ECDSA key");
        if (!certKey.ExportParameters(false).Q.X.AsSpan().SequenceEqual(key.ExportParameters(false).Q.X))
            throw new CryptographicException("DTLS private key does not match the certificate");
        return new DtlsCertificate(key, cert.RawData);
    }

    private EcKeyHandle? _native;
    private bool _nativeTried;
    private readonly object _nativeLock = new();

    /// <summary>A DER ECDSA signature over SHA-256(<paramref name="data"/>) (TLS scheme 0x0403).</summary>
    internal byte[] SignSha256(ReadOnlySpan<byte> data)
    {
        if (EcBackend.UseLibCrypto && NativeKey() is { } key)
        {
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(data, digest);
            Span<byte> signature = stackalloc byte[160];
            int n = LibCrypto.Sign(key, digest, signature);
            if (n > 0) return signature[..n].ToArray();
        }
        return PrivateKey.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    // The private key copied into an EC_KEY once: signing through it skips .NET's per-call EVP_PKEY work.
    private EcKeyHandle? NativeKey()
    {
        lock (_nativeLock)
        {
            if (_nativeTried) return _native;
            _nativeTried = true;
            try
            {
                ECParameters p = PrivateKey.ExportParameters(includePrivateParameters: true);
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
