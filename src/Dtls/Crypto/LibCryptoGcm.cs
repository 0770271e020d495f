using System.Runtime.InteropServices;

namespace Engine.Dtls.Crypto;

/// <summary>
/// AES-GCM for DTLS records through libcrypto's EVP interface. .NET's AesGcm reports a bad tag by
/// throwing, and a record with a bad tag is wire noise (or an attack) that arrives on the media
/// thread: here it is a return value. One context per direction, keyed once; each record only sets
/// its nonce. Null when libcrypto is missing or disabled (<c>ENGINE_DTLS_CRYPTO=bcl</c>).
/// </summary>
internal sealed unsafe class LibCryptoGcm : IDisposable
{
    private const int CtrlGcmGetTag = 0x10, CtrlGcmSetTag = 0x11; // EVP_CTRL_GCM_GET_TAG / SET_TAG

    private static readonly delegate* unmanaged<nint> s_ctxNew;
    private static readonly delegate* unmanaged<nint, void> s_ctxFree;
    private static readonly delegate* unmanaged<nint> s_aes128Gcm, s_aes256Gcm;
    private static readonly delegate* unmanaged<nint, nint, nint, byte*, byte*, int, int> s_cipherInit;
    private static readonly delegate* unmanaged<nint, byte*, int*, byte*, int, int> s_cipherUpdate;
    private static readonly delegate* unmanaged<nint, byte*, int*, int> s_cipherFinal;
    private static readonly delegate* unmanaged<nint, int, int, void*, int> s_ctrl;
    private static readonly delegate* unmanaged<void> s_errClear;
    private static readonly bool s_available;

    private nint _ctx;

    static LibCryptoGcm()
    {
        if (LibCrypto.Library == 0) return;
        bool ok = true;
        nint F(string name) => LibCrypto.Export(name, ref ok);
        s_ctxNew = (delegate* unmanaged<nint>)F("EVP_CIPHER_CTX_new");
        s_ctxFree = (delegate* unmanaged<nint, void>)F("EVP_CIPHER_CTX_free");
        s_aes128Gcm = (delegate* unmanaged<nint>)F("EVP_aes_128_gcm");
        s_aes256Gcm = (delegate* unmanaged<nint>)F("EVP_aes_256_gcm");
        s_cipherInit = (delegate* unmanaged<nint, nint, nint, byte*, byte*, int, int>)F("EVP_CipherInit_ex");
        s_cipherUpdate = (delegate* unmanaged<nint, byte*, int*, byte*, int, int>)F("EVP_CipherUpdate");
        s_cipherFinal = (delegate* unmanaged<nint, byte*, int*, int>)F("EVP_CipherFinal_ex");
        s_ctrl = (delegate* unmanaged<nint, int, int, void*, int>)F("EVP_CIPHER_CTX_ctrl");
        s_errClear = (delegate* unmanaged<void>)F("ERR_clear_error");
        s_available = ok;
    }

    private LibCryptoGcm(nint ctx) => _ctx = ctx;

    /// <summary>A context keyed for AES-128 or AES-256 GCM (12-byte nonces), or null.</summary>
    public static LibCryptoGcm? TryCreate(ReadOnlySpan<byte> key)
    {
        if (!s_available || key.Length is not (16 or 32)) return null;
        nint ctx = s_ctxNew();
        if (ctx == 0) return null;
        nint cipher = key.Length == 16 ? s_aes128Gcm() : s_aes256Gcm();
        int ok;
        fixed (byte* k = key) ok = s_cipherInit(ctx, cipher, 0, k, null, 1);
        if (ok != 1)
        {
            s_ctxFree(ctx);
            s_errClear();
            return null;
        }
        return new LibCryptoGcm(ctx);
    }

    public bool Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> aad)
    {
        if (!Run(nonce, plaintext, ciphertext, aad, default, encrypt: true)) return false;
        fixed (byte* t = tag)
            return s_ctrl(_ctx, CtrlGcmGetTag, tag.Length, t) == 1 || Fail();
    }

    /// <summary>False for a record that does not authenticate; nothing is thrown.</summary>
    public bool Open(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> aad) =>
        Run(nonce, ciphertext, plaintext, aad, tag, encrypt: false);

    // EVP order: nonce, AAD, data, (decrypt: the expected tag), final (decrypt: the tag check).
    private bool Run(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> input, Span<byte> output, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> tag, bool encrypt)
    {
        if (output.Length < input.Length || _ctx == 0) return false;
        int n;
        byte scratch;
        bool ok;
        fixed (byte* iv = nonce)
        fixed (byte* a = aad)
        fixed (byte* i = input)
        fixed (byte* o = output)
        fixed (byte* t = tag)
        {
            ok = s_cipherInit(_ctx, 0, 0, null, iv, encrypt ? 1 : 0) == 1
                && s_cipherUpdate(_ctx, null, &n, a == null ? &scratch : a, aad.Length) == 1
                && (input.Length == 0 || s_cipherUpdate(_ctx, o, &n, i, input.Length) == 1)
                && (encrypt || s_ctrl(_ctx, CtrlGcmSetTag, tag.Length, t) == 1)
                && s_cipherFinal(_ctx, &scratch, &n) == 1; // GCM's final writes no bytes
        }
        GC.KeepAlive(this);
        return ok || Fail();
    }

    private static bool Fail()
    {
        s_errClear();
        return false;
    }

    public void Dispose()
    {
        if (_ctx != 0)
        {
            s_ctxFree(_ctx);
            _ctx = 0;
        }
    }
}
