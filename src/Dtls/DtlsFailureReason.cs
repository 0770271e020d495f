namespace Engine.Dtls;

/// <summary>Why an endpoint moved to <see cref="DtlsState.Failed"/>.</summary>
public enum DtlsFailureReason
{
    None,
    /// <summary>The peer stopped answering: the retransmission budget ran out (RFC 6347 §4.2.4).</summary>
    Timeout,
    /// <summary>The peer's certificate did not match the expected SDP fingerprint, or was unusable.</summary>
    BadCertificate,
    /// <summary>ServerKeyExchange or CertificateVerify signature did not verify.</summary>
    BadSignature,
    /// <summary>The peer's Finished verify_data was wrong.</summary>
    BadFinished,
    /// <summary>No common cipher suite, group, SRTP profile, or a required extension is missing.</summary>
    HandshakeFailure,
    DecodeError,
    UnexpectedMessage,
    /// <summary>The peer sent a fatal alert; see <see cref="DtlsEndpoint.PeerAlert"/>.</summary>
    PeerAlert,
    InternalError,
    /// <summary>The peer's certificate key is neither ECDSA on P-256/P-384/P-521 nor RSA of 2048 to 4096 bits.</summary>
    UnsupportedKey,
}
