namespace Engine.Dtls;

/// <summary>Per-endpoint settings. Defaults suit WebRTC on the public internet.</summary>
public sealed class DtlsOptions
{
    /// <summary>Largest datagram we build; our flights are fragmented to fit (RFC 6347 §4.1.1.1).</summary>
    public int Mtu { get; init; } = 1200;

    /// <summary>SRTP profiles in server preference order (RFC 5764 §4.1.1).</summary>
    public ushort[] SrtpProfiles { get; init; } =
    [
        SrtpProtectionProfile.AeadAes128Gcm,
        SrtpProtectionProfile.AeadAes256Gcm,
        SrtpProtectionProfile.Aes128CmHmacSha1_80,
        SrtpProtectionProfile.Aes128CmHmacSha1_32,
    ];

    /// <summary>
    /// In preference order. A server picks the first one the client offers that fits its own certificate
    /// (ECDSA suites for an EC key, ECDHE_RSA suites for an RSA key; RFC 8422 §5.3).
    /// </summary>
    public CipherSuite[] CipherSuites { get; init; } =
    [
        CipherSuite.EcdheEcdsaAes128GcmSha256,
        CipherSuite.EcdheEcdsaAes256GcmSha384,
        CipherSuite.EcdheRsaAes128GcmSha256,
        CipherSuite.EcdheRsaAes256GcmSha384,
    ];

    /// <summary>The peer's SDP fingerprint. Required: a handshake without it fails with bad_certificate.</summary>
    public DtlsFingerprint? RemoteFingerprint { get; init; }

    /// <summary>RFC 6347 §4.2.4.1: initial timer 1 s, doubled per retransmission up to 60 s.</summary>
    public long InitialRetransmitMicros { get; init; } = 1_000_000;

    public long MaxRetransmitMicros { get; init; } = 60_000_000;

    /// <summary>Retransmissions of one flight before the handshake fails with <see cref="DtlsFailureReason.Timeout"/>.</summary>
    public int MaxRetransmissions { get; init; } = 8;

    /// <summary>Server: answer a ClientHello without a valid cookie with HelloVerifyRequest (RFC 6347 §4.2.1).</summary>
    public bool RequireCookie { get; init; } = true;

    /// <summary>HMAC key for cookies; share one across endpoints to make cookies stateless. Null: random per endpoint.</summary>
    public byte[]? CookieSecret { get; init; }

    /// <summary>RFC 7627: refuse peers that do not negotiate the extended master secret.</summary>
    public bool RequireExtendedMasterSecret { get; init; } = true;
}
