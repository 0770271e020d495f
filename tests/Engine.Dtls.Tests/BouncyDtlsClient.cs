using System.Collections;
using Org.BouncyCastle.Crypto.Tls;
using BcCertificate = Org.BouncyCastle.Crypto.Tls.Certificate;

namespace Engine.Dtls.Tests;

/// <summary>A BouncyCastle DTLS 1.2 client with an ECDSA or RSA certificate, use_srtp and extended master secret.</summary>
public sealed class BouncyDtlsClient : DefaultTlsClient
{
    private readonly BouncyIdentity _identity;
    private readonly int[] _suites;
    private readonly int[] _profiles;

    public BouncyDtlsClient(BouncyIdentity identity, int[] suites, int[] profiles)
    {
        _identity = identity;
        _suites = suites;
        _profiles = profiles;
    }

    public byte[]? ServerCertificateDer { get; private set; }
    public int SelectedProfile { get; private set; }

    /// <summary>BouncyCastle wipes the master secret when Connect returns, so export inside the callback.</summary>
    public byte[]? SrtpKeyingMaterial { get; private set; }

    public override ProtocolVersion ClientVersion => ProtocolVersion.DTLSv12;
    public override ProtocolVersion MinimumVersion => ProtocolVersion.DTLSv12;
    public override int[] GetCipherSuites() => _suites;

    public override IDictionary GetClientExtensions()
    {
        IDictionary extensions = TlsExtensionsUtilities.EnsureExtensionsInitialised(base.GetClientExtensions());
        TlsSRTPUtils.AddUseSrtpExtension(extensions, new UseSrtpData(_profiles, []));
        TlsExtensionsUtilities.AddExtendedMasterSecretExtension(extensions);
        return extensions;
    }

    public override void ProcessServerExtensions(IDictionary serverExtensions)
    {
        base.ProcessServerExtensions(serverExtensions);
        SelectedProfile = TlsSRTPUtils.GetUseSrtpExtension(serverExtensions).ProtectionProfiles[0];
    }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        int length = Engine.Dtls.SrtpProtectionProfile.GetKeyingMaterialLength((ushort)SelectedProfile);
        SrtpKeyingMaterial = mContext.ExportKeyingMaterial(ExporterLabel.dtls_srtp, null, length);
    }

    public override TlsAuthentication GetAuthentication() => new Authentication(this);

    private sealed class Authentication(BouncyDtlsClient owner) : TlsAuthentication
    {
        public void NotifyServerCertificate(BcCertificate serverCertificate) =>
            owner.ServerCertificateDer = serverCertificate.GetCertificateAt(0).GetEncoded();

        public TlsCredentials GetClientCredentials(CertificateRequest certificateRequest) =>
            new DefaultTlsSignerCredentials(owner.mContext, owner._identity.Certificate, owner._identity.PrivateKey, owner._identity.SignatureAndHash);
    }
}
