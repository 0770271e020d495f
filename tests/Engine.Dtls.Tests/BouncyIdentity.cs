using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Tls;
using Org.BouncyCastle.Security;
using BcCertificate = Org.BouncyCastle.Crypto.Tls.Certificate;

namespace Engine.Dtls.Tests;

/// <summary>BouncyCastle identity made from one of our generated certificates (DER + PKCS#8 key), ECDSA or RSA.</summary>
public sealed class BouncyIdentity
{
    public BouncyIdentity(DtlsCertificate certificate)
    {
        Certificate = new BcCertificate([X509CertificateStructure.GetInstance(certificate.Der)]);
        PrivateKey = PrivateKeyFactory.CreateKey(certificate.PrivateKey.ExportPkcs8PrivateKey());
        SignatureAndHash = certificate.IsRsa ? RsaSha256 : EcdsaSha256;
    }

    /// <summary>What this identity signs with: (sha256, ecdsa) or (sha256, rsa), i.e. 0x0403 or 0x0401.</summary>
    public SignatureAndHashAlgorithm SignatureAndHash { get; }

    public BcCertificate Certificate { get; }
    public AsymmetricKeyParameter PrivateKey { get; }

    public static SignatureAndHashAlgorithm EcdsaSha256 => new(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa);

    public static SignatureAndHashAlgorithm RsaSha256 => new(HashAlgorithm.sha256, SignatureAlgorithm.rsa);
}
