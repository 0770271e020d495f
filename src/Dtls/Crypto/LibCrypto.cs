using System.Runtime.InteropServices;

namespace Engine.Dtls.Crypto;

/// <summary>
/// The few OpenSSL EC calls a handshake needs, bound directly. .NET's ECDiffieHellman/ECDsa run on the
/// same libcrypto but build, validate and convert an EVP_PKEY through OpenSSL 3's provider layer on
/// every import, derive and generate: measured here 83 us to generate, 237 us to import and derive,
/// 119 us to import a verify key, against 13, 61 and 2 us for the EC_KEY calls below. That overhead
/// was most of a handshake. Loaded once; when it is missing, callers use System.Security.Cryptography.
/// </summary>
internal static unsafe class LibCrypto
{
    public const int NidP256 = 415, NidP384 = 715, NidP521 = 716;
    private const int PointConversionUncompressed = 4;

    private static readonly delegate* unmanaged<int, nint> s_groupNewByCurveName;
    private static readonly delegate* unmanaged<nint> s_keyNew;
    private static readonly delegate* unmanaged<nint, nint, int> s_keySetGroup;
    private static readonly delegate* unmanaged<nint, int> s_keyGenerate;
    private static readonly delegate* unmanaged<nint, void> s_keyFree;
    private static readonly delegate* unmanaged<nint, nint> s_keyGetPublic;
    private static readonly delegate* unmanaged<nint, nint, int> s_keySetPublic;
    private static readonly delegate* unmanaged<nint, nint, int> s_keySetPrivate;
    private static readonly delegate* unmanaged<nint, nint> s_pointNew;
    private static readonly delegate* unmanaged<nint, void> s_pointFree;
    private static readonly delegate* unmanaged<nint, nint, int, byte*, nuint, nint, nuint> s_pointToOctets;
    private static readonly delegate* unmanaged<nint, nint, byte*, nuint, nint, int> s_octetsToPoint;
    private static readonly delegate* unmanaged<nint, nint, nint, int> s_pointIsOnCurve;
    private static readonly delegate* unmanaged<byte*, nuint, nint, nint, nint, int> s_ecdhComputeKey;
    private static readonly delegate* unmanaged<int, byte*, int, byte*, uint*, nint, int> s_ecdsaSign;
    private static readonly delegate* unmanaged<int, byte*, int, byte*, int, nint, int> s_ecdsaVerify;
    private static readonly delegate* unmanaged<nint, int> s_ecdsaSize;
    private static readonly delegate* unmanaged<byte*, int, nint, nint> s_bnFromBytes;
    private static readonly delegate* unmanaged<nint, void> s_bnClearFree;
    private static readonly delegate* unmanaged<void> s_errClear;
    private static readonly nint s_p256, s_p384, s_p521;

    /// <summary>libcrypto (OpenSSL 3 or 1.1) was found with every function used here.</summary>
    public static bool IsAvailable { get; }

    /// <summary>The loaded library, for <see cref="LibCryptoRsa"/>; 0 when not loaded or disabled.</summary>
    internal static nint Library { get; }

    static LibCrypto()
    {
        if (Environment.GetEnvironmentVariable("ENGINE_DTLS_CRYPTO") == "bcl") return;
        nint lib = 0;
        foreach (string name in (ReadOnlySpan<string>)["libcrypto.so.3", "libcrypto.so.1.1"])
        {
            if (NativeLibrary.TryLoad(name, out lib)) break;
        }
        if (lib == 0) return;
        Library = lib;
        bool ok = true;
        nint F(string name)
        {
            if (NativeLibrary.TryGetExport(lib, name, out nint f)) return f;
            ok = false;
            return 0;
        }
        s_groupNewByCurveName = (delegate* unmanaged<int, nint>)F("EC_GROUP_new_by_curve_name");
        s_keyNew = (delegate* unmanaged<nint>)F("EC_KEY_new");
        s_keySetGroup = (delegate* unmanaged<nint, nint, int>)F("EC_KEY_set_group");
        s_keyGenerate = (delegate* unmanaged<nint, int>)F("EC_KEY_generate_key");
        s_keyFree = (delegate* unmanaged<nint, void>)F("EC_KEY_free");
        s_keyGetPublic = (delegate* unmanaged<nint, nint>)F("EC_KEY_get0_public_key");
        s_keySetPublic = (delegate* unmanaged<nint, nint, int>)F("EC_KEY_set_public_key");
        s_keySetPrivate = (delegate* unmanaged<nint, nint, int>)F("EC_KEY_set_private_key");
        s_pointNew = (delegate* unmanaged<nint, nint>)F("EC_POINT_new");
        s_pointFree = (delegate* unmanaged<nint, void>)F("EC_POINT_free");
        s_pointToOctets = (delegate* unmanaged<nint, nint, int, byte*, nuint, nint, nuint>)F("EC_POINT_point2oct");
        s_octetsToPoint = (delegate* unmanaged<nint, nint, byte*, nuint, nint, int>)F("EC_POINT_oct2point");
        s_pointIsOnCurve = (delegate* unmanaged<nint, nint, nint, int>)F("EC_POINT_is_on_curve");
        s_ecdhComputeKey = (delegate* unmanaged<byte*, nuint, nint, nint, nint, int>)F("ECDH_compute_key");
        s_ecdsaSign = (delegate* unmanaged<int, byte*, int, byte*, uint*, nint, int>)F("ECDSA_sign");
        s_ecdsaVerify = (delegate* unmanaged<int, byte*, int, byte*, int, nint, int>)F("ECDSA_verify");
        s_ecdsaSize = (delegate* unmanaged<nint, int>)F("ECDSA_size");
        s_bnFromBytes = (delegate* unmanaged<byte*, int, nint, nint>)F("BN_bin2bn");
        s_bnClearFree = (delegate* unmanaged<nint, void>)F("BN_clear_free");
        s_errClear = (delegate* unmanaged<void>)F("ERR_clear_error");
        if (!ok) return;
        // Groups are read-only once made and shared by every key (EC_KEY_set_group copies them).
        s_p256 = s_groupNewByCurveName(NidP256);
        s_p384 = s_groupNewByCurveName(NidP384);
        s_p521 = s_groupNewByCurveName(NidP521);
        IsAvailable = s_p256 != 0 && s_p384 != 0 && s_p521 != 0;
    }

    /// <summary>An export of the loaded libcrypto, for the other bindings; clears <paramref name="ok"/> when it is missing.</summary>
    internal static nint Export(string name, ref bool ok)
    {
        if (Library != 0 && NativeLibrary.TryGetExport(Library, name, out nint f)) return f;
        ok = false;
        return 0;
    }

    /// <summary>Field size in bytes of a supported curve, 0 otherwise.</summary>
    public static int FieldLength(int nid) => nid switch { NidP256 => 32, NidP384 => 48, NidP521 => 66, _ => 0 };

    private static nint Group(int nid) => nid switch { NidP256 => s_p256, NidP384 => s_p384, NidP521 => s_p521, _ => 0 };

    /// <summary>A fresh key pair on the curve; its public point (0x04 | X | Y) into <paramref name="point"/>.</summary>
    public static EcKeyHandle? Generate(int nid, Span<byte> point)
    {
        var key = NewKey(nid);
        if (key == null) return null;
        if (s_keyGenerate(key.Raw) != 1 || !WritePublicPoint(key, nid, point))
        {
            key.Dispose();
            s_errClear();
            return null;
        }
        return key;
    }

    /// <summary>A key holding only the peer's public point; null when the point is not on the curve.</summary>
    public static EcKeyHandle? ImportPublic(int nid, ReadOnlySpan<byte> point)
    {
        nint p = ParsePoint(nid, point);
        if (p == 0) return null;
        var key = NewKey(nid);
        bool ok = key != null && s_keySetPublic(key.Raw, p) == 1;
        s_pointFree(p);
        if (!ok)
        {
            key?.Dispose();
            s_errClear();
            return null;
        }
        return key;
    }

    /// <summary>A signing key from its private scalar and public point.</summary>
    public static EcKeyHandle? ImportPrivate(int nid, ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> point)
    {
        var key = ImportPublic(nid, point);
        if (key == null) return null;
        nint bn;
        fixed (byte* s = scalar) bn = s_bnFromBytes(s, scalar.Length, 0);
        bool ok = bn != 0 && s_keySetPrivate(key.Raw, bn) == 1;
        if (bn != 0) s_bnClearFree(bn);
        if (!ok)
        {
            key.Dispose();
            s_errClear();
            return null;
        }
        return key;
    }

    /// <summary>ECDH: the x coordinate of our private key times the peer's point (RFC 8422 §5.10).</summary>
    public static bool TryDerive(EcKeyHandle key, int nid, ReadOnlySpan<byte> peerPoint, Span<byte> secret)
    {
        int length = FieldLength(nid);
        if (secret.Length < length) return false;
        nint p = ParsePoint(nid, peerPoint);
        if (p == 0) return false;
        int n;
        fixed (byte* s = secret) n = s_ecdhComputeKey(s, (nuint)length, p, key.Raw, 0);
        s_pointFree(p);
        GC.KeepAlive(key);
        if (n != length)
        {
            s_errClear();
            return false;
        }
        return true;
    }

    /// <summary>A DER ECDSA-Sig-Value over <paramref name="digest"/>; its length, or 0.</summary>
    public static int Sign(EcKeyHandle key, ReadOnlySpan<byte> digest, Span<byte> signature)
    {
        if (signature.Length < s_ecdsaSize(key.Raw)) return 0;
        uint length = (uint)signature.Length;
        int ok;
        fixed (byte* d = digest)
        fixed (byte* s = signature)
            ok = s_ecdsaSign(0, d, digest.Length, s, &length, key.Raw);
        GC.KeepAlive(key);
        if (ok != 1)
        {
            s_errClear();
            return 0;
        }
        return (int)length;
    }

    public static bool Verify(EcKeyHandle key, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        int result;
        fixed (byte* d = digest)
        fixed (byte* s = signature)
            result = s_ecdsaVerify(0, d, digest.Length, s, signature.Length, key.Raw);
        GC.KeepAlive(key);
        if (result != 1) s_errClear();
        return result == 1;
    }

    private static EcKeyHandle? NewKey(int nid)
    {
        nint group = Group(nid);
        if (group == 0) return null;
        var key = new EcKeyHandle(s_keyNew());
        if (key.IsInvalid || s_keySetGroup(key.Raw, group) != 1)
        {
            key.Dispose();
            s_errClear();
            return null;
        }
        return key;
    }

    // Uncompressed points only, and on the curve (oct2point checks too; this does not depend on the version).
    private static nint ParsePoint(int nid, ReadOnlySpan<byte> point)
    {
        nint group = Group(nid);
        if (group == 0 || point.Length != 1 + 2 * FieldLength(nid) || point[0] != PointConversionUncompressed) return 0;
        nint p = s_pointNew(group);
        if (p == 0) return 0;
        int ok;
        fixed (byte* b = point) ok = s_octetsToPoint(group, p, b, (nuint)point.Length, 0);
        if (ok != 1 || s_pointIsOnCurve(group, p, 0) != 1)
        {
            s_pointFree(p);
            s_errClear();
            return 0;
        }
        return p;
    }

    private static bool WritePublicPoint(EcKeyHandle key, int nid, Span<byte> point)
    {
        int length = 1 + 2 * FieldLength(nid);
        if (point.Length < length) return false;
        nuint n;
        fixed (byte* b = point) n = s_pointToOctets(Group(nid), s_keyGetPublic(key.Raw), PointConversionUncompressed, b, (nuint)length, 0);
        return n == (nuint)length;
    }

    internal static void Free(nint key) => s_keyFree(key);
}

/// <summary>An EC_KEY, freed exactly once (also when an endpoint is dropped without Dispose).</summary>
internal sealed class EcKeyHandle : SafeHandle
{
    public EcKeyHandle(nint handle) : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    public nint Raw => handle;

    protected override bool ReleaseHandle()
    {
        LibCrypto.Free(handle);
        return true;
    }
}
