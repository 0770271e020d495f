using System.Buffers.Binary;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using Engine.Srtp.Crypto;

namespace Engine.Srtp;

/// <summary>
/// One direction of an SRTP session: the session keys derived from one master key and salt
/// (RFC 3711 §4.3) and the per-SSRC indices. Protect and unprotect work in place.
/// </summary>
internal sealed class SrtpContext : IDisposable
{
    private const int RtpHeaderLength = 12;
    private const int RtcpHeaderLength = 8;
    private const int SrtcpIndexLength = 4;   // E flag + 31-bit SRTCP index, RFC 3711 §3.4
    private const uint EncryptedFlag = 0x8000_0000;

    private readonly bool _aead;
    private readonly int _rtpTagLength;
    private readonly int _rtcpTagLength;
    private readonly Vector128<byte> _rtpSalt, _rtcpSalt;
    private readonly AesCipher? _rtpAes, _rtcpAes;
    private readonly HmacSha1? _rtpMac, _rtcpMac;
    private readonly GcmCipher? _rtpGcm, _rtcpGcm;
    private readonly SrtpStreamTable _streams = new();

    public SrtpContext(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, bool accelerated = true)
    {
        _aead = IsAead(profile);
        _rtpTagLength = RtpTagLength(profile);
        _rtcpTagLength = _aead ? GcmCipher.TagLength : 10; // SRTCP keeps the 80-bit tag even with _32 (RFC 5764 §4.1.2)
        int saltLength = masterSalt.Length;
        Span<byte> key = stackalloc byte[masterKey.Length];
        Span<byte> salt = stackalloc byte[16];
        Span<byte> authKey = stackalloc byte[HmacSha1.DigestLength];
        using var master = new AesCipher(masterKey, accelerated);
        try
        {
            salt.Clear();
            SrtpKeyDerivation.Derive(master, masterSalt, SrtpKeyDerivation.RtpSalt, salt[..saltLength]);
            _rtpSalt = Vector128.Create((ReadOnlySpan<byte>)salt);
            SrtpKeyDerivation.Derive(master, masterSalt, SrtpKeyDerivation.RtcpSalt, salt[..saltLength]);
            _rtcpSalt = Vector128.Create((ReadOnlySpan<byte>)salt);

            SrtpKeyDerivation.Derive(master, masterSalt, SrtpKeyDerivation.RtpEncryption, key);
            if (_aead) _rtpGcm = new GcmCipher(key, accelerated); else _rtpAes = new AesCipher(key, accelerated);
            SrtpKeyDerivation.Derive(master, masterSalt, SrtpKeyDerivation.RtcpEncryption, key);
            if (_aead) _rtcpGcm = new GcmCipher(key, accelerated); else _rtcpAes = new AesCipher(key, accelerated);
            if (!_aead)
            {
                SrtpKeyDerivation.Derive(master, masterSalt, SrtpKeyDerivation.RtpAuthentication, authKey);
                _rtpMac = new HmacSha1(authKey, accelerated);
                SrtpKeyDerivation.Derive(master, masterSalt, SrtpKeyDerivation.RtcpAuthentication, authKey);
                _rtcpMac = new HmacSha1(authKey, accelerated);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(salt);
            CryptographicOperations.ZeroMemory(authKey);
        }
    }

    /// <summary>Test hook for RFC 7714's vectors, which give session keys, not master keys.</summary>
    internal static SrtpContext FromSessionKeys(SrtpProfile profile, ReadOnlySpan<byte> sessionKey, ReadOnlySpan<byte> sessionSalt, bool accelerated)
    {
        if (!IsAead(profile)) throw new ArgumentException("session keys are only supported for AEAD profiles", nameof(profile));
        return new SrtpContext(sessionKey, sessionSalt, accelerated);
    }

    private SrtpContext(ReadOnlySpan<byte> sessionKey, ReadOnlySpan<byte> sessionSalt, bool accelerated)
    {
        _aead = true;
        _rtpTagLength = _rtcpTagLength = GcmCipher.TagLength;
        Span<byte> salt = stackalloc byte[16];
        salt.Clear();
        sessionSalt.CopyTo(salt);
        _rtpSalt = _rtcpSalt = Vector128.Create((ReadOnlySpan<byte>)salt);
        _rtpGcm = new GcmCipher(sessionKey, accelerated);
        _rtcpGcm = new GcmCipher(sessionKey, accelerated);
    }

    public static bool IsAead(SrtpProfile profile) => profile is SrtpProfile.AeadAes128Gcm or SrtpProfile.AeadAes256Gcm;

    public static int RtpTagLength(SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmHmacSha1_32 => 4,
        SrtpProfile.Aes128CmHmacSha1_80 => 10,
        _ => GcmCipher.TagLength,
    };

    public int RtpOverhead => _rtpTagLength;
    public int RtcpOverhead => _rtcpTagLength + SrtcpIndexLength;
    public SrtpStreamTable Streams => _streams;

    public void Dispose()
    {
        _rtpAes?.Dispose(); _rtcpAes?.Dispose();
        _rtpMac?.Dispose(); _rtcpMac?.Dispose();
        _rtpGcm?.Dispose(); _rtcpGcm?.Dispose();
    }

    // RFC 3550 §5.1: fixed header, CSRCs, then the extension (RFC 3550 §5.3.1) if X is set.
    internal static bool TryGetRtpHeaderLength(ReadOnlySpan<byte> packet, out int headerLength)
    {
        headerLength = 0;
        if (packet.Length < RtpHeaderLength || packet[0] >> 6 != 2) return false;
        int length = RtpHeaderLength + 4 * (packet[0] & 0x0F);
        if ((packet[0] & 0x10) != 0)
        {
            if (length + 4 > packet.Length) return false;
            length += 4 + 4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(length + 2)..]);
        }
        if (length > packet.Length) return false;
        headerLength = length;
        return true;
    }

    public SrtpResult ProtectRtp(Span<byte> buffer, int length, out int protectedLength)
    {
        protectedLength = 0;
        if ((uint)length > (uint)buffer.Length || !TryGetRtpHeaderLength(buffer[..length], out int headerLength))
            return SrtpResult.Malformed;
        if (buffer.Length - length < _rtpTagLength) return SrtpResult.BufferTooSmall;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer[8..]);
        ushort seq = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
        int slot = _streams.FindOrAdd(ssrc);
        if (slot < 0) return SrtpResult.TooManySsrcs;
        ref SrtpStreamState stream = ref _streams[slot];
        ulong index = stream.Rtp.EstimateRtpIndex(seq);
        stream.Rtp.Accept(index);
        uint roc = (uint)(index >> 16);

        Span<byte> payload = buffer[headerLength..length];
        if (_aead)
        {
            _rtpGcm!.Seal(GcmRtpIv(ssrc, roc, seq), buffer[..headerLength], payload, buffer.Slice(length, GcmCipher.TagLength));
        }
        else
        {
            _rtpAes!.Ctr(CmIv(_rtpSalt, ssrc, index), 0, payload);
            WriteRtpTag(buffer[..length], roc, buffer.Slice(length, _rtpTagLength));
        }
        protectedLength = length + _rtpTagLength;
        return SrtpResult.Ok;
    }

    public SrtpResult UnprotectRtp(Span<byte> packet, out int plainLength)
    {
        plainLength = 0;
        if (!TryGetRtpHeaderLength(packet, out int headerLength) || packet.Length - headerLength < _rtpTagLength)
            return SrtpResult.Malformed;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        ushort seq = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        int slot = _streams.Find(ssrc);
        ulong index = seq;
        if (slot >= 0)
        {
            ref SrtpStreamState known = ref _streams[slot];
            index = known.Rtp.EstimateRtpIndex(seq);
            SrtpResult replay = known.Rtp.Check(index);
            if (replay != SrtpResult.Ok) return replay;
        }
        else if (_streams.IsFull)
        {
            return SrtpResult.TooManySsrcs;
        }
        uint roc = (uint)(index >> 16);
        int authenticated = packet.Length - _rtpTagLength;
        Span<byte> payload = packet[headerLength..authenticated];
        if (_aead)
        {
            if (!_rtpGcm!.Open(GcmRtpIv(ssrc, roc, seq), packet[..headerLength], payload, packet[authenticated..]))
                return SrtpResult.AuthFailed;
        }
        else
        {
            Span<byte> tag = stackalloc byte[HmacSha1.DigestLength];
            WriteRtpTag(packet[..authenticated], roc, tag);
            if (!CryptographicOperations.FixedTimeEquals(tag[.._rtpTagLength], packet[authenticated..]))
                return SrtpResult.AuthFailed;
            _rtpAes!.Ctr(CmIv(_rtpSalt, ssrc, index), 0, payload);
        }
        // RFC 3711 §3.3.2: only an authenticated packet creates state or moves the window.
        if (slot < 0) slot = _streams.Add(ssrc);
        _streams[slot].Rtp.Accept(index);
        plainLength = authenticated;
        return SrtpResult.Ok;
    }

    public SrtpResult ProtectRtcp(Span<byte> buffer, int length, out int protectedLength)
    {
        protectedLength = 0;
        if ((uint)length > (uint)buffer.Length || length < RtcpHeaderLength || buffer[0] >> 6 != 2)
            return SrtpResult.Malformed;
        if (buffer.Length - length < RtcpOverhead) return SrtpResult.BufferTooSmall;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer[4..]);
        int slot = _streams.FindOrAdd(ssrc);
        if (slot < 0) return SrtpResult.TooManySsrcs;
        ref SrtpStreamState stream = ref _streams[slot];
        uint index = stream.NextRtcpIndex;
        stream.NextRtcpIndex = (index + 1) & 0x7FFF_FFFF;
        uint word = EncryptedFlag | index;

        Span<byte> payload = buffer[RtcpHeaderLength..length];
        if (_aead)
        {
            // RFC 7714 §9.1: header || ciphertext || tag || E+index; AAD = header || E+index.
            Span<byte> aad = stackalloc byte[RtcpHeaderLength + SrtcpIndexLength];
            buffer[..RtcpHeaderLength].CopyTo(aad);
            BinaryPrimitives.WriteUInt32BigEndian(aad[RtcpHeaderLength..], word);
            _rtcpGcm!.Seal(GcmRtcpIv(ssrc, index), aad, payload, buffer.Slice(length, GcmCipher.TagLength));
            BinaryPrimitives.WriteUInt32BigEndian(buffer[(length + GcmCipher.TagLength)..], word);
        }
        else
        {
            // RFC 3711 §3.4: header || ciphertext || E+index || tag, the tag covering all before it.
            _rtcpAes!.Ctr(CmIv(_rtcpSalt, ssrc, index), 0, payload);
            BinaryPrimitives.WriteUInt32BigEndian(buffer[length..], word);
            Span<byte> tag = stackalloc byte[HmacSha1.DigestLength];
            _rtcpMac!.Compute(buffer[..(length + SrtcpIndexLength)], default, tag);
            tag[.._rtcpTagLength].CopyTo(buffer[(length + SrtcpIndexLength)..]);
        }
        protectedLength = length + RtcpOverhead;
        return SrtpResult.Ok;
    }

    public SrtpResult UnprotectRtcp(Span<byte> packet, out int plainLength)
    {
        plainLength = 0;
        if (packet.Length < RtcpHeaderLength + RtcpOverhead || packet[0] >> 6 != 2) return SrtpResult.Malformed;
        int plainEnd = packet.Length - RtcpOverhead;
        int wordAt = _aead ? packet.Length - SrtcpIndexLength : plainEnd;
        uint word = BinaryPrimitives.ReadUInt32BigEndian(packet[wordAt..]);
        uint index = word & 0x7FFF_FFFF;
        bool encrypted = (word & EncryptedFlag) != 0;
        uint ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        int slot = _streams.Find(ssrc);
        if (slot >= 0)
        {
            SrtpResult replay = _streams[slot].Rtcp.Check(index);
            if (replay != SrtpResult.Ok) return replay;
        }
        else if (_streams.IsFull)
        {
            return SrtpResult.TooManySsrcs;
        }

        if (_aead)
        {
            Span<byte> tag = stackalloc byte[GcmCipher.TagLength];
            packet.Slice(plainEnd, GcmCipher.TagLength).CopyTo(tag);
            bool ok;
            if (encrypted)
            {
                Span<byte> aad = stackalloc byte[RtcpHeaderLength + SrtcpIndexLength];
                packet[..RtcpHeaderLength].CopyTo(aad);
                BinaryPrimitives.WriteUInt32BigEndian(aad[RtcpHeaderLength..], word);
                ok = _rtcpGcm!.Open(GcmRtcpIv(ssrc, index), aad, packet[RtcpHeaderLength..plainEnd], tag);
            }
            else
            {
                // RFC 7714 §9.2: unencrypted SRTCP authenticates the whole packet || E+index as AAD.
                // The tag was copied out, so the word can be moved up beside the packet.
                BinaryPrimitives.WriteUInt32BigEndian(packet[plainEnd..], word);
                ok = _rtcpGcm!.Open(GcmRtcpIv(ssrc, index), packet[..(plainEnd + SrtcpIndexLength)], default, tag);
                tag.CopyTo(packet[plainEnd..]);
            }
            if (!ok) return SrtpResult.AuthFailed;
        }
        else
        {
            int authenticated = plainEnd + SrtcpIndexLength;
            Span<byte> tag = stackalloc byte[HmacSha1.DigestLength];
            _rtcpMac!.Compute(packet[..authenticated], default, tag);
            if (!CryptographicOperations.FixedTimeEquals(tag[.._rtcpTagLength], packet[authenticated..]))
                return SrtpResult.AuthFailed;
            if (encrypted) _rtcpAes!.Ctr(CmIv(_rtcpSalt, ssrc, index), 0, packet[RtcpHeaderLength..plainEnd]);
        }
        if (slot < 0) slot = _streams.Add(ssrc);
        _streams[slot].Rtcp.Accept(index);
        plainLength = plainEnd;
        return SrtpResult.Ok;
    }

    /// <summary>Sets the next SRTCP index sent for <paramref name="ssrc"/> (RFC 7714 vectors start mid-session).</summary>
    internal void SetNextRtcpIndex(uint ssrc, uint index)
    {
        int slot = _streams.FindOrAdd(ssrc);
        if (slot >= 0) _streams[slot].NextRtcpIndex = index & 0x7FFF_FFFF;
    }

    private void WriteRtpTag(ReadOnlySpan<byte> authenticated, uint roc, Span<byte> tag)
    {
        // RFC 3711 §4.2: the tag covers the packet followed by the 32-bit ROC.
        Span<byte> rocBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(rocBytes, roc);
        if (tag.Length >= HmacSha1.DigestLength)
        {
            _rtpMac!.Compute(authenticated, rocBytes, tag);
            return;
        }
        Span<byte> full = stackalloc byte[HmacSha1.DigestLength];
        _rtpMac!.Compute(authenticated, rocBytes, full);
        full[..tag.Length].CopyTo(tag);
    }

    // RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
    private static Vector128<byte> CmIv(Vector128<byte> salt, uint ssrc, ulong index) =>
        salt ^ Vector128.Create(
            (ulong)BinaryPrimitives.ReverseEndianness(ssrc) << 32,
            BinaryPrimitives.ReverseEndianness(index << 16)).AsByte();

    // RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt; bytes 12..15 hold GCM's counter.
    private Vector128<byte> GcmRtpIv(uint ssrc, uint roc, ushort seq)
    {
        Span<byte> iv = stackalloc byte[16];
        iv.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(iv[2..], ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(iv[6..], roc);
        BinaryPrimitives.WriteUInt16BigEndian(iv[10..], seq);
        return _rtpSalt ^ Vector128.Create((ReadOnlySpan<byte>)iv);
    }

    // RFC 7714 §9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt.
    private Vector128<byte> GcmRtcpIv(uint ssrc, uint index)
    {
        Span<byte> iv = stackalloc byte[16];
        iv.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(iv[2..], ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(iv[8..], index);
        return _rtcpSalt ^ Vector128.Create((ReadOnlySpan<byte>)iv);
    }
}
