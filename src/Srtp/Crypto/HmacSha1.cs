using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Engine.Srtp.Crypto;

/// <summary>
/// HMAC-SHA1 (RFC 2104) keyed once per session: the SHA-1 states after the ipad and opad blocks
/// are kept, so a packet costs its own bytes plus two blocks, never a rekey. Uses libcrypto's
/// SHA-1 when present, else IncrementalHash.
/// </summary>
internal sealed unsafe class HmacSha1 : IDisposable
{
    public const int DigestLength = 20;

    private ShaState _inner;
    private ShaState _outer;
    private readonly IncrementalHash? _managed;

    public HmacSha1(ReadOnlySpan<byte> key, bool allowNative = true)
    {
        if (key.Length > 64) throw new ArgumentException("HMAC key longer than a block", nameof(key));
        if (allowNative && LibCrypto.IsAvailable)
        {
            Span<byte> pad = stackalloc byte[64];
            fixed (ShaState* inner = &_inner)
            fixed (ShaState* outer = &_outer)
            fixed (byte* p = pad)
            {
                pad.Fill(0x36);
                for (int i = 0; i < key.Length; i++) pad[i] ^= key[i];
                LibCrypto.SHA1_Init(inner);
                LibCrypto.SHA1_Update(inner, p, 64);
                pad.Fill(0x5c);
                for (int i = 0; i < key.Length; i++) pad[i] ^= key[i];
                LibCrypto.SHA1_Init(outer);
                LibCrypto.SHA1_Update(outer, p, 64);
                CryptographicOperations.ZeroMemory(pad);
            }
        }
        else
        {
            _managed = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, key);
        }
    }

    public bool IsNative => _managed is null;

    public void Dispose()
    {
        _inner = default;
        _outer = default;
        _managed?.Dispose();
    }

    /// <summary>HMAC over <paramref name="data"/> || <paramref name="suffix"/> (the ROC, RFC 3711 §4.2).</summary>
    public void Compute(ReadOnlySpan<byte> data, ReadOnlySpan<byte> suffix, Span<byte> mac)
    {
        if (_managed is not null)
        {
            _managed.AppendData(data);
            _managed.AppendData(suffix);
            _managed.GetHashAndReset(mac);
            return;
        }
        ShaState state = _inner;
        byte* digest = stackalloc byte[DigestLength];
        fixed (byte* d = data)
        fixed (byte* s = suffix)
        {
            LibCrypto.SHA1_Update(&state, d, (nuint)data.Length);
            if (suffix.Length > 0) LibCrypto.SHA1_Update(&state, s, (nuint)suffix.Length);
            LibCrypto.SHA1_Final(digest, &state);
        }
        state = _outer;
        LibCrypto.SHA1_Update(&state, digest, DigestLength);
        fixed (byte* m = mac)
        {
            if (mac.Length >= DigestLength)
            {
                LibCrypto.SHA1_Final(m, &state);
                return;
            }
        }
        LibCrypto.SHA1_Final(digest, &state);
        new ReadOnlySpan<byte>(digest, DigestLength)[..mac.Length].CopyTo(mac);
    }

    /// <summary>OpenSSL's SHA_CTX: h0..h4, Nl, Nh, data[16], num — 24 words.</summary>
    [InlineArray(24)]
    private struct ShaState
    {
        private uint _word;
    }
}
