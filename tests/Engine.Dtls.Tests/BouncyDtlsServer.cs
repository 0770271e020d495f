using System.Collections;
using Org.BouncyCastle.Crypto.Tls;
using BcCertificate = Org.BouncyCastle.Crypto.Tls.Certificate;

namespace Engine.Dtls.Tests;

/// <summary>A BouncyCastle DTLS 1.2 server (ECDSA or RSA identity) that requests an ECDSA or RSA client certificate and answers use_srtp.</summary>
public sealed class BouncyDtlsServer : DefaultTlsServer
{
    private readonly BouncyIdentity _identity;
    private readonly int[] _suites;
    private readonly int[] _profiles;

    public BouncyDtlsServer(BouncyIdentity identity, int[] suites, int[] profiles)
    {
        _identity = identity;
        _suites = suites;
        _profiles = profiles;
    }

    public byte[]? ClientCertificateDer { get; private set; }
    public int SelectedProfile { get; private set; }

    /// <summary>BouncyCastle wipes the master secret when Accept returns, so export inside the callback.</summary>
    public byte[]? SrtpKeyingMaterial { get; private set; }

    protected override ProtocolVersion MaximumVersion => ProtocolVersion.DTLSv12;
    protected override ProtocolVersion MinimumVersion => ProtocolVersion.DTLSv12;
    protected override int[] GetCipherSuites() => _suites;

    protected override TlsSignerCredentials GetECDsaSignerCredentials() =>
        new DefaultTlsSignerCredentials(mContext, _identity.Certificate, _identity.PrivateKey, _identity.SignatureAndHash);

    protected override TlsSignerCredentials GetRsaSignerCredentials() =>
        new DefaultTlsSignerCredentials(mContext, _identity.Certificate, _identity.PrivateKey, _identity.SignatureAndHash);

    public override CertificateRequest GetCertificateRequest() =>
        new([ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign],
            new ArrayList { BouncyIdentity.EcdsaSha256, BouncyIdentity.RsaSha256 }, null);

    public override void NotifyClientCertificate(BcCertificate clientCertificate) =>
        ClientCertificateDer = clientCertificate.GetCertificateAt(0).GetEncoded();

    public override void ProcessClientExtensions(IDictionary clientExtensions)
    {
        base.ProcessClientExtensions(clientExtensions);
        int[] offered = TlsSRTPUtils.GetUseSrtpExtension(clientExtensions).ProtectionProfiles;
        SelectedProfile = _profiles.First(p => offered.Contains(p));
    }

    public override IDictionary GetServerExtensions()
    {
        IDictionary extensions = TlsExtensionsUtilities.EnsureExtensionsInitialised(base.GetServerExtensions());
        TlsSRTPUtils.AddUseSrtpExtension(extensions, new UseSrtpData([SelectedProfile], []));
        return extensions;
    }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        int length = Engine.Dtls.SrtpProtectionProfile.GetKeyingMaterialLength((ushort)SelectedProfile);
        SrtpKeyingMaterial = mContext.ExportKeyingMaterial(ExporterLabel.dtls_srtp, null, length);
    }
}
