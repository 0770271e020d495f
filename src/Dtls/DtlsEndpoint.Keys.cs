using System.Buffers.Binary;
using System.Security.Cryptography;
using Engine.Dtls.Crypto;
using Engine.Dtls.Handshake;
using Engine.Dtls.Record;

namespace Engine.Dtls;

// Key exchange, certificates and the key schedule shared by both roles.
public sealed partial class DtlsEndpoint
{
    private const ushort NamedCurveSecp256r1 = 23;
    private const ushort EcdsaSecp256r1Sha256 = 0x0403;
    private const ushort RsaPkcs1Sha256 = 0x0401;
    private const ushort RsaPssRsaeSha256 = 0x0804;

    /// <summary>
    /// The SignatureSchemes we verify (RFC 5246 §7.4.1.4.1 with RFC 8446 §4.2.3 code points), in our
    /// preference order: ECDSA, then RSA-PSS (what OpenSSL itself prefers), then RSA PKCS#1 v1.5.
    /// </summary>
    private static ReadOnlySpan<byte> VerifiedSchemes =>
        [0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01];

    /// <summary>RSA schemes we sign with when the peer lists them: PKCS#1 SHA-256 first (RFC 5246's own), then PSS.</summary>
    private static ReadOnlySpan<ushort> RsaSigningPreference => [RsaPkcs1Sha256, RsaPssRsaeSha256, 0x0501, 0x0601];

    private readonly byte[] _cookieSecret;
    private readonly byte[] _clientRandom = new byte[32];
    private readonly byte[] _serverRandom = new byte[32];
    private readonly byte[] _masterSecret = new byte[48];
    private ushort _nextSendSequence;
    private bool _extendedMasterSecret;
    private HashAlgorithmName _prfHash = HashAlgorithmName.SHA256;
    private int _keyLength = 16;
    private RecordCipher? _pendingReadCipher;
    private RecordCipher? _pendingWriteCipher;
    private EphemeralEcdhKey? _ecdh;
    private PeerVerifyKey? _peerKey;
    private ushort _signatureScheme;

    /// <summary>
    /// RFC 5705 exporter without context: PRF(master_secret, label, client_random + server_random).
    /// For DTLS-SRTP the label is "EXTRACTOR-dtls_srtp" (RFC 5764 §4.2).
    /// </summary>
    public bool TryExportKeyingMaterial(ReadOnlySpan<byte> label, Span<byte> dst)
    {
        if (State != DtlsState.Connected) return false;
        Span<byte> seed = stackalloc byte[64];
        _clientRandom.CopyTo(seed);
        _serverRandom.CopyTo(seed[32..]);
        TlsPrf.Derive(_prfHash, _masterSecret, label, seed, dst);
        return true;
    }

    /// <summary>The SRTP key block for <see cref="SrtpProfile"/>: client key, server key, client salt, server salt (RFC 5764 §4.2).</summary>
    public bool TryExportSrtpKeyingMaterial(Span<byte> dst, out int length)
    {
        length = SrtpProfile == 0 ? 0 : SrtpProtectionProfile.GetKeyingMaterialLength(SrtpProfile);
        if (length == 0 || dst.Length < length) return false;
        return TryExportKeyingMaterial("EXTRACTOR-dtls_srtp"u8, dst[..length]);
    }

    /// <summary>
    /// The SRTP master keys and salts split by direction: "local" protects what we send. The client
    /// sends with the client write key and salt (RFC 5764 §4.2), the server with the server's.
    /// </summary>
    public bool TryGetSrtpKeys(Span<byte> localKey, Span<byte> localSalt, Span<byte> remoteKey, Span<byte> remoteSalt)
    {
        if (SrtpProfile == 0) return false;
        int keyLength = SrtpProtectionProfile.GetKeyLength(SrtpProfile);
        int saltLength = SrtpProtectionProfile.GetSaltLength(SrtpProfile);
        if (localKey.Length < keyLength || remoteKey.Length < keyLength || localSalt.Length < saltLength || remoteSalt.Length < saltLength)
            return false;
        Span<byte> block = stackalloc byte[2 * (32 + 14)];
        if (!TryExportSrtpKeyingMaterial(block, out int length)) return false;
        block = block[..length];
        ReadOnlySpan<byte> clientKey = block[..keyLength];
        ReadOnlySpan<byte> serverKey = block.Slice(keyLength, keyLength);
        ReadOnlySpan<byte> clientSalt = block.Slice(2 * keyLength, saltLength);
        ReadOnlySpan<byte> serverSalt = block.Slice(2 * keyLength + saltLength, saltLength);
        bool client = Role == DtlsRole.Client;
        (client ? clientKey : serverKey).CopyTo(localKey);
        (client ? clientSalt : serverSalt).CopyTo(localSalt);
        (client ? serverKey : clientKey).CopyTo(remoteKey);
        (client ? serverSalt : clientSalt).CopyTo(remoteSalt);
        CryptographicOperations.ZeroMemory(block);
        return true;
    }

    private void SetCipherSuite(CipherSuite suite)
    {
        CipherSuite = suite;
        bool aes256 = suite is CipherSuite.EcdheEcdsaAes256GcmSha384 or CipherSuite.EcdheRsaAes256GcmSha384;
        _prfHash = aes256 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;
        _keyLength = aes256 ? 32 : 16;
    }

    /// <summary>ECDHE_RSA suites need an RSA certificate, ECDHE_ECDSA ones an EC one (RFC 8422 §5.3, RFC 5289).</summary>
    private static bool IsRsaSuite(CipherSuite suite) => suite is CipherSuite.EcdheRsaAes128GcmSha256 or CipherSuite.EcdheRsaAes256GcmSha384;

    /// <summary>
    /// The scheme we sign with, from the peer's signature_algorithms or CertificateRequest list: 0x0403 for
    /// our EC key; for RSA the first of <see cref="RsaSigningPreference"/> the peer lists. With no list, or
    /// none that fits, PKCS#1 SHA-256 (RFC 5246 §7.4.1.4.1 allows only SHA-1 there; nobody wants that).
    /// </summary>
    private ushort ChooseSignatureScheme(ReadOnlySpan<byte> peerSchemes)
    {
        if (!_certificate.IsRsa) return EcdsaSecp256r1Sha256;
        foreach (ushort scheme in RsaSigningPreference)
        {
            if (HelloExtensions.ContainsU16(peerSchemes, scheme)) return scheme;
        }
        return RsaPkcs1Sha256;
    }

    /// <summary>RFC 8422 §5.4: an uncompressed P-256 point, 0x04 | X | Y.</summary>
    private byte[] CreateEphemeralKey()
    {
        _ecdh?.Dispose();
        var point = new byte[EphemeralEcdhKey.PointLength];
        _ecdh = EphemeralEcdhKey.Create(point);
        return point;
    }

    /// <summary>The ECDH shared secret (x coordinate) is the premaster secret (RFC 8422 §5.10); null for a bad point.</summary>
    private byte[]? DerivePreMasterSecret(ReadOnlySpan<byte> peerPoint)
    {
        if (_ecdh == null) return null;
        var secret = new byte[32];
        return _ecdh.TryDerive(peerPoint, secret) ? secret : null;
    }

    /// <summary>Master secret (RFC 7627 §4 or RFC 5246 §8.1) and the key block (RFC 5246 §6.3) into pending ciphers.</summary>
    private void DeriveKeys(byte[] preMaster)
    {
        if (_extendedMasterSecret)
        {
            Span<byte> sessionHash = stackalloc byte[48];
            int n = _transcript.Hash(_prfHash, sessionHash);
            TlsPrf.Derive(_prfHash, preMaster, "extended master secret"u8, sessionHash[..n], _masterSecret);
        }
        else
        {
            Span<byte> randoms = stackalloc byte[64];
            _clientRandom.CopyTo(randoms);
            _serverRandom.CopyTo(randoms[32..]);
            TlsPrf.Derive(_prfHash, preMaster, "master secret"u8, randoms, _masterSecret);
        }
        CryptographicOperations.ZeroMemory(preMaster);

        Span<byte> seed = stackalloc byte[64];
        _serverRandom.CopyTo(seed);
        _clientRandom.CopyTo(seed[32..]);
        Span<byte> block = stackalloc byte[2 * 32 + 2 * 4];
        block = block[..(2 * _keyLength + 8)];
        TlsPrf.Derive(_prfHash, _masterSecret, "key expansion"u8, seed, block);
        // AEAD suites have no MAC keys: client_write_key, server_write_key, client_write_IV, server_write_IV.
        var client = new RecordCipher(block[.._keyLength], block.Slice(2 * _keyLength, 4));
        var server = new RecordCipher(block.Slice(_keyLength, _keyLength), block.Slice(2 * _keyLength + 4, 4));
        CryptographicOperations.ZeroMemory(block);
        _pendingWriteCipher = Role == DtlsRole.Client ? client : server;
        _pendingReadCipher = Role == DtlsRole.Client ? server : client;
    }

    /// <summary>Finished.verify_data = PRF(master_secret, label, Hash(handshake_messages))[0..11] (RFC 5246 §7.4.9).</summary>
    private byte[] ComputeVerifyData(bool client)
    {
        Span<byte> hash = stackalloc byte[48];
        int n = _transcript.Hash(_prfHash, hash);
        var verifyData = new byte[12];
        TlsPrf.Derive(_prfHash, _masterSecret, client ? "client finished"u8 : "server finished"u8, hash[..n], verifyData);
        return verifyData;
    }

    private bool CheckFinished(ReadOnlySpan<byte> body, bool fromClient)
    {
        byte[] expected = ComputeVerifyData(fromClient);
        if (body.Length == expected.Length && CryptographicOperations.FixedTimeEquals(body, expected)) return true;
        Fail(DtlsFailureReason.BadFinished, AlertDescription.DecryptError);
        return false;
    }

    /// <summary>certificate_list&lt;0..2^24-1&gt; of ASN.1Cert&lt;1..2^24-1&gt; (RFC 5246 §7.4.2).</summary>
    private byte[] BuildCertificateBody()
    {
        byte[] der = _certificate.Der;
        var body = new byte[6 + der.Length];
        Transcript.WriteUInt24(body, der.Length + 3);
        Transcript.WriteUInt24(body.AsSpan(3), der.Length);
        der.CopyTo(body, 6);
        return body;
    }

    /// <summary>Checks the peer's leaf certificate against the SDP fingerprint and keeps its public key.</summary>
    private bool TryAcceptCertificate(ReadOnlySpan<byte> body)
    {
        if (body.Length < 3 || HandshakeFragmentView.ReadUInt24(body) != body.Length - 3)
        {
            Fail(DtlsFailureReason.DecodeError, AlertDescription.DecodeError);
            return false;
        }
        if (body.Length == 3)
        {
            // WebRTC authenticates both ends by certificate fingerprint (RFC 8827 §6.5): no certificate, no call.
            Fail(DtlsFailureReason.BadCertificate, AlertDescription.HandshakeFailure);
            return false;
        }
        int length = body.Length >= 6 ? HandshakeFragmentView.ReadUInt24(body[3..]) : 0;
        if (length == 0 || length > body.Length - 6)
        {
            Fail(DtlsFailureReason.DecodeError, AlertDescription.DecodeError);
            return false;
        }
        ReadOnlySpan<byte> der = body.Slice(6, length);
        if (_options.RemoteFingerprint is not { } expected || !expected.Matches(der))
        {
            Fail(DtlsFailureReason.BadCertificate, AlertDescription.BadCertificate);
            return false;
        }
        _peerKey?.Dispose();
        _peerKey = null;
        if (CertificatePublicKey.TryRead(der, out ECParameters ecKey))
        {
            _peerKey = PeerVerifyKey.TryCreate(ecKey);
        }
        else if (CertificatePublicKey.TryReadRsa(der, out ReadOnlySpan<byte> modulus, out ReadOnlySpan<byte> exponent))
        {
            if (!PeerVerifyKey.IsAcceptableRsa(modulus, exponent))
            {
                // Under 2048 bits is breakable; over 4096 costs the server a verify per handshake that nobody needs.
                Fail(DtlsFailureReason.UnsupportedKey, AlertDescription.UnsupportedCertificate);
                return false;
            }
            _peerKey = PeerVerifyKey.TryCreateRsa(modulus, exponent);
        }
        else
        {
            Fail(DtlsFailureReason.UnsupportedKey, AlertDescription.UnsupportedCertificate);
            return false;
        }
        if (_peerKey == null)
        {
            Fail(DtlsFailureReason.BadCertificate, AlertDescription.BadCertificate);
            return false;
        }
        // The server's key must be the kind its suite signs with; a client may use either (we offered both).
        if (Role == DtlsRole.Client && _peerKey.IsRsa != IsRsaSuite(CipherSuite))
        {
            Fail(DtlsFailureReason.UnsupportedKey, AlertDescription.UnsupportedCertificate);
            return false;
        }
        RemoteCertificate = der.ToArray();
        return true;
    }

    /// <summary>Verifies a digitally-signed struct (RFC 5246 §4.7) made with the peer's certificate key.</summary>
    private bool VerifyPeerSignature(ushort scheme, ReadOnlySpan<byte> signed, ReadOnlySpan<byte> signature) =>
        _peerKey != null && _peerKey.VerifyScheme(scheme, signed, signature);

    private byte[] Sign(ReadOnlySpan<byte> data) => _certificate.Sign(_signatureScheme, data);

    /// <summary>Reads scheme(2) signature&lt;0..2^16-1&gt; filling the rest of <paramref name="data"/>.</summary>
    private static bool TryReadSignature(ReadOnlySpan<byte> data, out ushort scheme, out ReadOnlySpan<byte> signature)
    {
        scheme = 0;
        signature = default;
        if (data.Length < 4 || BinaryPrimitives.ReadUInt16BigEndian(data[2..]) != data.Length - 4) return false;
        scheme = BinaryPrimitives.ReadUInt16BigEndian(data);
        signature = data[4..];
        return true;
    }

    private void OnConnected()
    {
        State = DtlsState.Connected;
        _ecdh?.Dispose();
        _ecdh = null;
    }
}
