using System.Security.Cryptography;

namespace Engine.Dtls.Crypto;

/// <summary>Which implementation the EC keys below use: libcrypto directly when it loads, else .NET's.</summary>
internal static class EcBackend
{
    /// <summary>An uncompressed point on the largest curve served (P-521).</summary>
    public const int MaxPointLength = 1 + 2 * 66;

    /// <summary>Tests flip this to run the .NET path; each key keeps the backend it was made with.</summary>
    internal static bool ForceDotNet { get; set; }

    public static bool UseLibCrypto => !ForceDotNet && LibCrypto.IsAvailable;

    public static int CurveNid(in ECCurve curve) => curve.Oid.Value switch
    {
        "1.2.840.10045.3.1.7" => LibCrypto.NidP256,
        "1.3.132.0.34" => LibCrypto.NidP384,
        "1.3.132.0.35" => LibCrypto.NidP521,
        _ => 0,
    };

    /// <summary>
    /// The public point 0x04 | X | Y of <paramref name="key"/> into <paramref name="point"/> (at least
    /// 133 bytes) and its curve; 0 when the curve is not one libcrypto serves here.
    /// </summary>
    public static int WritePoint(in ECParameters key, Span<byte> point, out int nid)
    {
        nid = CurveNid(key.Curve);
        int field = LibCrypto.FieldLength(nid);
        if (field == 0 || key.Q.X?.Length != field || key.Q.Y?.Length != field) return 0;
        point[0] = 4;
        key.Q.X.CopyTo(point[1..]);
        key.Q.Y.CopyTo(point[(1 + field)..]);
        return 1 + 2 * field;
    }

    /// <summary>Hashes <paramref name="data"/>; the digest length, or 0 for an unknown hash.</summary>
    public static int Hash(HashAlgorithmName hash, ReadOnlySpan<byte> data, Span<byte> digest)
    {
        if (hash == HashAlgorithmName.SHA256) return SHA256.HashData(data, digest);
        if (hash == HashAlgorithmName.SHA384) return SHA384.HashData(data, digest);
        if (hash == HashAlgorithmName.SHA512) return SHA512.HashData(data, digest);
        return 0;
    }
}

/// <summary>An ephemeral ECDHE key on P-256 (RFC 8422), for one handshake.</summary>
internal sealed class EphemeralEcdhKey : IDisposable
{
    public const int PointLength = 65;
    private readonly EcKeyHandle? _native;
    private readonly ECDiffieHellman? _managed;

    private EphemeralEcdhKey(EcKeyHandle? native, ECDiffieHellman? managed)
    {
        _native = native;
        _managed = managed;
    }

    /// <summary>A new key; its public point 0x04 | X | Y into <paramref name="point"/> (65 bytes).</summary>
    public static EphemeralEcdhKey Create(Span<byte> point)
    {
        if (EcBackend.UseLibCrypto && LibCrypto.Generate(LibCrypto.NidP256, point) is { } native)
            return new EphemeralEcdhKey(native, null);
        var ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        ECPoint q = ecdh.ExportParameters(false).Q;
        point[0] = 4;
        q.X.AsSpan().CopyTo(point.Slice(1 + 32 - q.X!.Length, q.X.Length));
        q.Y.AsSpan().CopyTo(point.Slice(33 + 32 - q.Y!.Length, q.Y.Length));
        return new EphemeralEcdhKey(null, ecdh);
    }

    /// <summary>The shared x coordinate (32 bytes); false for a point that is malformed or off the curve.</summary>
    public bool TryDerive(ReadOnlySpan<byte> peerPoint, Span<byte> secret)
    {
        if (peerPoint.Length != PointLength || peerPoint[0] != 4 || secret.Length < 32) return false;
        if (_native != null) return LibCrypto.TryDerive(_native, LibCrypto.NidP256, peerPoint, secret);
        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = peerPoint.Slice(1, 32).ToArray(), Y = peerPoint.Slice(33, 32).ToArray() },
        };
        try
        {
            using var peer = ECDiffieHellman.Create(parameters);
            using ECDiffieHellmanPublicKey peerPublic = peer.PublicKey;
            byte[] shared = _managed!.DeriveRawSecretAgreement(peerPublic);
            shared.CopyTo(secret);
            CryptographicOperations.ZeroMemory(shared);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _native?.Dispose();
        _managed?.Dispose();
    }
}
