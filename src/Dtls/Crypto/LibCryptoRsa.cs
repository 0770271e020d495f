using System.Runtime.InteropServices;

namespace Engine.Dtls.Crypto;

/// <summary>
/// RSA signature verification bound directly, for peers with RSA certificates (GStreamer webrtcbin's
/// default, and many DTLSCER files). A bare RSA key from (n, e) skips OpenSSL 3's EVP_PKEY provider
/// import and decode the way the EC path does. Shares <see cref="LibCrypto"/>'s library; when a
/// function is missing (or ENGINE_DTLS_CRYPTO=bcl), callers use .NET's RSA.
/// </summary>
internal static unsafe class LibCryptoRsa
{
    public const int NidSha256 = 672, NidSha384 = 673, NidSha512 = 674;
    public const int MaxModulusLength = 512;
    private const int RsaNoPadding = 3;
    // RSA_PSS_SALTLEN_DIGEST: the salt is as long as the hash, as rsa_pss_rsae_* require (RFC 8446 §4.2.3).
    private const int SaltLengthIsDigestLength = -1;

    private static readonly delegate* unmanaged<nint> s_rsaNew;
    private static readonly delegate* unmanaged<nint, void> s_rsaFree;
    private static readonly delegate* unmanaged<nint, nint, nint, nint, int> s_rsaSet0Key;
    private static readonly delegate* unmanaged<nint, int> s_rsaSize;
    private static readonly delegate* unmanaged<int, byte*, uint, byte*, uint, nint, int> s_rsaVerify;
    private static readonly delegate* unmanaged<int, byte*, byte*, nint, int, int> s_publicDecrypt;
    private static readonly delegate* unmanaged<nint, byte*, nint, byte*, int, int> s_verifyPss;
    private static readonly delegate* unmanaged<byte*, int, nint, nint> s_bnFromBytes;
    private static readonly delegate* unmanaged<nint, void> s_bnFree;
    private static readonly delegate* unmanaged<void> s_errClear;
    private static readonly nint s_sha256, s_sha384, s_sha512;

    public static bool IsAvailable { get; }

    static LibCryptoRsa()
    {
        if (LibCrypto.Library == 0) return;
        bool ok = true;
        nint F(string name) => LibCrypto.Export(name, ref ok);
        s_rsaNew = (delegate* unmanaged<nint>)F("RSA_new");
        s_rsaFree = (delegate* unmanaged<nint, void>)F("RSA_free");
        s_rsaSet0Key = (delegate* unmanaged<nint, nint, nint, nint, int>)F("RSA_set0_key");
        s_rsaSize = (delegate* unmanaged<nint, int>)F("RSA_size");
        s_rsaVerify = (delegate* unmanaged<int, byte*, uint, byte*, uint, nint, int>)F("RSA_verify");
        s_publicDecrypt = (delegate* unmanaged<int, byte*, byte*, nint, int, int>)F("RSA_public_decrypt");
        s_verifyPss = (delegate* unmanaged<nint, byte*, nint, byte*, int, int>)F("RSA_verify_PKCS1_PSS");
        s_bnFromBytes = (delegate* unmanaged<byte*, int, nint, nint>)F("BN_bin2bn");
        s_bnFree = (delegate* unmanaged<nint, void>)F("BN_free");
        s_errClear = (delegate* unmanaged<void>)F("ERR_clear_error");
        var sha256 = (delegate* unmanaged<nint>)F("EVP_sha256");
        var sha384 = (delegate* unmanaged<nint>)F("EVP_sha384");
        var sha512 = (delegate* unmanaged<nint>)F("EVP_sha512");
        if (!ok) return;
        s_sha256 = sha256();
        s_sha384 = sha384();
        s_sha512 = sha512();
        IsAvailable = s_sha256 != 0 && s_sha384 != 0 && s_sha512 != 0;
    }

    /// <summary>A public key from its big-endian modulus and exponent; null when libcrypto refuses them.</summary>
    public static RsaKeyHandle? ImportPublic(ReadOnlySpan<byte> modulus, ReadOnlySpan<byte> exponent)
    {
        if (modulus.Length == 0 || modulus.Length > MaxModulusLength || exponent.Length == 0) return null;
        var key = new RsaKeyHandle(s_rsaNew());
        if (key.IsInvalid)
        {
            key.Dispose();
            return null;
        }
        nint n, e;
        fixed (byte* m = modulus) n = s_bnFromBytes(m, modulus.Length, 0);
        fixed (byte* x = exponent) e = s_bnFromBytes(x, exponent.Length, 0);
        // RSA_set0_key takes both numbers on success only.
        if (n == 0 || e == 0 || s_rsaSet0Key(key.Raw, n, e, 0) != 1)
        {
            if (n != 0) s_bnFree(n);
            if (e != 0) s_bnFree(e);
            key.Dispose();
            s_errClear();
            return null;
        }
        return key;
    }

    /// <summary>RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.2) over a digest made with the hash <paramref name="nid"/>.</summary>
    public static bool VerifyPkcs1(RsaKeyHandle key, int nid, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        if (signature.Length == 0) return false;
        int result;
        fixed (byte* d = digest)
        fixed (byte* s = signature)
            result = s_rsaVerify(nid, d, (uint)digest.Length, s, (uint)signature.Length, key.Raw);
        GC.KeepAlive(key);
        if (result != 1) s_errClear();
        return result == 1;
    }

    /// <summary>RSASSA-PSS (RFC 8017 §8.1.2) with MGF1 on the same hash and a salt as long as the digest.</summary>
    public static bool VerifyPss(RsaKeyHandle key, int nid, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        nint md = nid switch { NidSha256 => s_sha256, NidSha384 => s_sha384, NidSha512 => s_sha512, _ => 0 };
        int size = s_rsaSize(key.Raw);
        // RFC 8017 §8.1.2 step 1: the signature is exactly as long as the modulus.
        if (md == 0 || size <= 0 || size > MaxModulusLength || signature.Length != size) return false;
        Span<byte> encoded = stackalloc byte[MaxModulusLength];
        int result;
        fixed (byte* s = signature)
        fixed (byte* em = encoded)
        {
            int n = s_publicDecrypt(signature.Length, s, em, key.Raw, RsaNoPadding);
            fixed (byte* d = digest)
                result = n == size ? s_verifyPss(key.Raw, d, md, em, SaltLengthIsDigestLength) : 0;
        }
        GC.KeepAlive(key);
        if (result != 1) s_errClear();
        return result == 1;
    }

    internal static void Free(nint key) => s_rsaFree(key);
}

/// <summary>An RSA*, freed exactly once.</summary>
internal sealed class RsaKeyHandle : SafeHandle
{
    public RsaKeyHandle(nint handle) : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    public nint Raw => handle;

    protected override bool ReleaseHandle()
    {
        LibCryptoRsa.Free(handle);
        return true;
    }
}
