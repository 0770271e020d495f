using System.Runtime.InteropServices;
using Engine.Srtp;

namespace Engine.Srtp.Reference;

/// <summary>
/// One direction of libsrtp2 (the reference C implementation, Debian libsrtp2-1) through P/Invoke:
/// an outbound session protects, an inbound one unprotects, like one half of <see cref="SrtpSession"/>.
/// Shared by the interop tests and the benchmarks (linked into both projects).
/// </summary>
internal sealed unsafe partial class LibSrtp : IDisposable
{
    private const string Library = "libsrtp2.so.1";

    /// <summary>Room libsrtp may write after a packet (SRTP_MAX_TRAILER_LEN + 4 for SRTCP).</summary>
    public const int MaxTrailer = 16 + 128 + 4;

    public const int Ok = 0, AuthFail = 7, ReplayFail = 9, ReplayOld = 10;

    private static readonly int InitStatus = srtp_init();

    private IntPtr _session;
    private readonly byte* _key;

    /// <param name="encryptRtcp">False sends SRTCP authenticated only, with the E flag clear (RFC 3711 §3.4).</param>
    public LibSrtp(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, bool outbound, bool encryptRtcp = true)
    {
        if (InitStatus != Ok) throw new InvalidOperationException($"srtp_init failed: {InitStatus}");
        _key = (byte*)NativeMemory.AllocZeroed(64);
        masterKey.CopyTo(new Span<byte>(_key, 64));
        masterSalt.CopyTo(new Span<byte>(_key + masterKey.Length, 64 - masterKey.Length));
        Policy policy = default;
        switch (profile)
        {
            case SrtpProfile.Aes128CmHmacSha1_80:
                srtp_crypto_policy_set_rtp_default(&policy.Rtp);
                srtp_crypto_policy_set_rtp_default(&policy.Rtcp);
                break;
            case SrtpProfile.Aes128CmHmacSha1_32:
                srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.Rtp);
                srtp_crypto_policy_set_rtp_default(&policy.Rtcp); // RFC 5764 §4.1.2: SRTCP keeps 80 bits
                break;
            case SrtpProfile.AeadAes128Gcm:
                srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.Rtp);
                srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.Rtcp);
                break;
            case SrtpProfile.AeadAes256Gcm:
                srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.Rtp);
                srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.Rtcp);
                break;
        }
        if (!encryptRtcp) policy.Rtcp.SecurityServices = 2; // sec_serv_auth
        policy.SsrcType = outbound ? 3 : 2; // ssrc_any_outbound / ssrc_any_inbound
        policy.Key = _key;
        IntPtr session;
        int status = srtp_create(&session, &policy);
        if (status != Ok) throw new InvalidOperationException($"srtp_create failed: {status}");
        _session = session;
    }

    public static string Version => Marshal.PtrToStringUTF8(srtp_get_version_string()) ?? "?";

    public int ProtectRtp(Span<byte> buffer, int length, out int protectedLength)
    {
        if (buffer.Length < length + MaxTrailer) throw new ArgumentException("libsrtp needs trailer room");
        int len = length;
        int status;
        fixed (byte* p = buffer) status = srtp_protect(_session, p, &len);
        protectedLength = len;
        return status;
    }

    public int UnprotectRtp(Span<byte> packet, out int plainLength)
    {
        int len = packet.Length;
        int status;
        fixed (byte* p = packet) status = srtp_unprotect(_session, p, &len);
        plainLength = len;
        return status;
    }

    public int ProtectRtcp(Span<byte> buffer, int length, out int protectedLength)
    {
        if (buffer.Length < length + MaxTrailer) throw new ArgumentException("libsrtp needs trailer room");
        int len = length;
        int status;
        fixed (byte* p = buffer) status = srtp_protect_rtcp(_session, p, &len);
        protectedLength = len;
        return status;
    }

    public int UnprotectRtcp(Span<byte> packet, out int plainLength)
    {
        int len = packet.Length;
        int status;
        fixed (byte* p = packet) status = srtp_unprotect_rtcp(_session, p, &len);
        plainLength = len;
        return status;
    }

    /// <summary>Drops the state of one SSRC; an inbound session re-creates it from its template on the next packet.</summary>
    public int RemoveStream(uint ssrc) =>
        srtp_remove_stream(_session, System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(ssrc)); // network order

    public void Dispose()
    {
        if (_session != IntPtr.Zero) srtp_dealloc(_session);
        _session = IntPtr.Zero;
        NativeMemory.Clear(_key, 64);
        NativeMemory.Free(_key);
    }

    // srtp2/srtp.h (libsrtp 2.5): srtp_crypto_policy_t and srtp_policy_t.
    [StructLayout(LayoutKind.Sequential)]
    private struct CryptoPolicy
    {
        public int CipherType, CipherKeyLength, AuthType, AuthKeyLength, AuthTagLength, SecurityServices;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Policy
    {
        public int SsrcType;
        public uint SsrcValue;
        public CryptoPolicy Rtp;
        public CryptoPolicy Rtcp;
        public byte* Key;
        public void* Keys;
        public nuint NumMasterKeys;
        public void* DeprecatedEkt;
        public nuint WindowSize;
        public int AllowRepeatTx;
        public int* EncryptedHeaderIds;
        public int EncryptedHeaderIdCount;
        public Policy* Next;
    }

    [LibraryImport(Library)] private static partial int srtp_init();
    [LibraryImport(Library)] private static partial IntPtr srtp_get_version_string();
    [LibraryImport(Library)] private static partial int srtp_create(IntPtr* session, Policy* policy);
    [LibraryImport(Library)] private static partial int srtp_dealloc(IntPtr session);
    [LibraryImport(Library)] private static partial int srtp_remove_stream(IntPtr session, uint ssrc);
    [LibraryImport(Library)] private static partial int srtp_protect(IntPtr session, byte* packet, int* length);
    [LibraryImport(Library)] private static partial int srtp_unprotect(IntPtr session, byte* packet, int* length);
    [LibraryImport(Library)] private static partial int srtp_protect_rtcp(IntPtr session, byte* packet, int* length);
    [LibraryImport(Library)] private static partial int srtp_unprotect_rtcp(IntPtr session, byte* packet, int* length);
    [LibraryImport(Library)] private static partial void srtp_crypto_policy_set_rtp_default(CryptoPolicy* policy); // = aes_cm_128_hmac_sha1_80 (a macro)
    [LibraryImport(Library)] private static partial void srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(CryptoPolicy* policy);
    [LibraryImport(Library)] private static partial void srtp_crypto_policy_set_aes_gcm_128_16_auth(CryptoPolicy* policy);
    [LibraryImport(Library)] private static partial void srtp_crypto_policy_set_aes_gcm_256_16_auth(CryptoPolicy* policy);
}
