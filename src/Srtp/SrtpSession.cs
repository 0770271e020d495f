using Engine.Srtp.Crypto;

namespace Engine.Srtp;

/// <summary>
/// SRTP and SRTCP for one DTLS-SRTP association: protects outgoing packets with the local
/// master key and unprotects incoming ones with the remote master key, in place, allocating
/// nothing per packet and never throwing on bad input (every drop is counted in <see cref="Counters"/>).
/// Not thread-safe: a session belongs to one worker thread.
/// </summary>
public sealed class SrtpSession : IDisposable
{
    private readonly SrtpContext _local;
    private readonly SrtpContext _remote;

    /// <param name="keyingMaterial">
    /// The DTLS exporter output, RFC 5764 §4.2 layout: client key, server key, client salt, server salt.
    /// </param>
    /// <param name="isClient">True when this end was the DTLS client (it sends with the client key).</param>
    public SrtpSession(SrtpProfile profile, ReadOnlySpan<byte> keyingMaterial, bool isClient)
        : this(profile, keyingMaterial, isClient, accelerated: true)
    {
    }

    /// <param name="accelerated">False runs the portable fallbacks (tests compare them with the fast path).</param>
    internal SrtpSession(SrtpProfile profile, ReadOnlySpan<byte> keyingMaterial, bool isClient, bool accelerated)
    {
        int keyLength = KeyLength(profile), saltLength = SaltLength(profile);
        if (keyingMaterial.Length != KeyingMaterialLength(profile))
            throw new ArgumentException($"{profile} needs {KeyingMaterialLength(profile)} bytes of keying material", nameof(keyingMaterial));
        ReadOnlySpan<byte> clientKey = keyingMaterial[..keyLength];
        ReadOnlySpan<byte> serverKey = keyingMaterial.Slice(keyLength, keyLength);
        ReadOnlySpan<byte> clientSalt = keyingMaterial.Slice(2 * keyLength, saltLength);
        ReadOnlySpan<byte> serverSalt = keyingMaterial.Slice(2 * keyLength + saltLength, saltLength);
        Profile = profile;
        _local = isClient ? new SrtpContext(profile, clientKey, clientSalt, accelerated) : new SrtpContext(profile, serverKey, serverSalt, accelerated);
        _remote = isClient ? new SrtpContext(profile, serverKey, serverSalt, accelerated) : new SrtpContext(profile, clientKey, clientSalt, accelerated);
    }

    /// <summary>Both directions from explicit session keys (RFC 7714 test vectors; AEAD profiles only).</summary>
    internal SrtpSession(SrtpProfile profile, ReadOnlySpan<byte> sessionKey, ReadOnlySpan<byte> sessionSalt, bool accelerated)
    {
        Profile = profile;
        _local = SrtpContext.FromSessionKeys(profile, sessionKey, sessionSalt, accelerated);
        _remote = SrtpContext.FromSessionKeys(profile, sessionKey, sessionSalt, accelerated);
    }

    public SrtpProfile Profile { get; }

    public SrtpCounters Counters { get; } = new();

    /// <summary>Bytes <see cref="ProtectRtp"/> appends: the caller reserves this much after the packet.</summary>
    public int RtpOverhead => _local.RtpOverhead;

    /// <summary>Bytes <see cref="ProtectRtcp"/> appends (SRTCP index and tag).</summary>
    public int RtcpOverhead => _local.RtcpOverhead;

    /// <summary>Most SSRCs tracked per direction; more are dropped as <see cref="SrtpResult.TooManySsrcs"/>.</summary>
    public static int MaxSsrcs => SrtpStreamTable.Capacity;

    /// <summary>Which primitives this machine runs, for start-up logs.</summary>
    public static string Implementation
    {
        get
        {
            bool aesNi = System.Runtime.Intrinsics.X86.Aes.IsSupported;
            bool clmul = System.Runtime.Intrinsics.X86.Pclmulqdq.IsSupported;
            bool native = LibCrypto.IsAvailable;
            return $"AES: {(aesNi ? "AES-NI" : "System.Security.Cryptography")}, GHASH: {(clmul ? "PCLMULQDQ" : "bitwise")}, " +
                   $"HMAC-SHA1: {(native ? "libcrypto.so.3 SHA1" : "IncrementalHash")}";
        }
    }

    public static int KeyLength(SrtpProfile profile) => profile == SrtpProfile.AeadAes256Gcm ? 32 : 16;

    /// <summary>Master salt length: 112 bits for AES-CM (RFC 3711 §8.2), 96 for GCM (RFC 7714 §12).</summary>
    public static int SaltLength(SrtpProfile profile) => SrtpContext.IsAead(profile) ? 12 : 14;

    public static int KeyingMaterialLength(SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmHmacSha1_80 or SrtpProfile.Aes128CmHmacSha1_32 or
        SrtpProfile.AeadAes128Gcm or SrtpProfile.AeadAes256Gcm => 2 * (KeyLength(profile) + SaltLength(profile)),
        _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "unsupported SRTP profile"),
    };

    /// <summary>
    /// Encrypts the RTP packet in <paramref name="buffer"/>[..<paramref name="length"/>] in place and
    /// appends the tag; <paramref name="buffer"/> must have <see cref="RtpOverhead"/> spare bytes.
    /// </summary>
    public SrtpResult ProtectRtp(Span<byte> buffer, int length, out int protectedLength)
    {
        SrtpResult result = _local.ProtectRtp(buffer, length, out protectedLength);
        if (result == SrtpResult.Ok) Counters.RtpProtected++;
        return Counters.Count(result);
    }

    /// <summary>Verifies and decrypts an SRTP packet in place; the plain RTP packet is <paramref name="packet"/>[..<paramref name="plainLength"/>].</summary>
    public SrtpResult UnprotectRtp(Span<byte> packet, out int plainLength)
    {
        SrtpResult result = _remote.UnprotectRtp(packet, out plainLength);
        if (result == SrtpResult.Ok) Counters.RtpUnprotected++;
        return Counters.Count(result);
    }

    /// <summary>Encrypts an RTCP compound packet in place and appends E+index and the tag (RFC 3711 §3.4).</summary>
    public SrtpResult ProtectRtcp(Span<byte> buffer, int length, out int protectedLength)
    {
        SrtpResult result = _local.ProtectRtcp(buffer, length, out protectedLength);
        if (result == SrtpResult.Ok) Counters.RtcpProtected++;
        return Counters.Count(result);
    }

    public SrtpResult UnprotectRtcp(Span<byte> packet, out int plainLength)
    {
        SrtpResult result = _remote.UnprotectRtcp(packet, out plainLength);
        if (result == SrtpResult.Ok) Counters.RtcpUnprotected++;
        return Counters.Count(result);
    }

    /// <summary>Forgets a remote SSRC (after RTCP BYE or a timeout) so its table slot can be reused.</summary>
    public bool RemoveRemoteSsrc(uint ssrc) => _remote.Streams.Remove(ssrc);

    /// <summary>Forgets a local SSRC that will send no more.</summary>
    public bool RemoveLocalSsrc(uint ssrc) => _local.Streams.Remove(ssrc);

    internal SrtpContext Local => _local;
    internal SrtpContext Remote => _remote;

    public void Dispose()
    {
        _local.Dispose();
        _remote.Dispose();
    }
}
