using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

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

    public void Dispose() => PrivateKey.Dispose();
}
