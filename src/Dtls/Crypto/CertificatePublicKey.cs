using System.Security.Cryptography;

namespace Engine.Dtls.Crypto;

/// <summary>
/// Reads the EC public key out of an X.509 certificate's DER without building an X509Certificate2.
/// OpenSSL 3 decodes a certificate's key through its provider decoder framework, which cost more than
/// the rest of the peer's key handling together (measured ~210 us per certificate); the fingerprint
/// already authenticates the bytes (RFC 8827 §6.5), so we only need the key.
/// </summary>
internal static class CertificatePublicKey
{
    private const byte Sequence = 0x30;
    private const byte ObjectIdentifier = 0x06;
    private const byte BitString = 0x03;
    private const byte ExplicitVersion = 0xA0;

    // RFC 5480 §2.1.1: id-ecPublicKey and the named curves we accept.
    private static ReadOnlySpan<byte> IdEcPublicKey => [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
    private static ReadOnlySpan<byte> Secp256r1 => [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
    private static ReadOnlySpan<byte> Secp384r1 => [0x2B, 0x81, 0x04, 0x00, 0x22];
    private static ReadOnlySpan<byte> Secp521r1 => [0x2B, 0x81, 0x04, 0x00, 0x23];

    /// <summary>
    /// RFC 5280 §4.1: Certificate → tbsCertificate → subjectPublicKeyInfo (the seventh field, after an
    /// optional [0] version). False when the DER is malformed or the key is not EC on a named NIST curve.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> certificate, out ECParameters parameters)
    {
        parameters = default;
        if (!TryReadTlv(ref certificate, Sequence, out ReadOnlySpan<byte> cert)
            || !TryReadTlv(ref cert, Sequence, out ReadOnlySpan<byte> tbs))
            return false;
        if (tbs.Length > 0 && tbs[0] == ExplicitVersion && !TrySkip(ref tbs)) return false;
        // serialNumber, signature, issuer, validity, subject
        for (int i = 0; i < 5; i++)
        {
            if (!TrySkip(ref tbs)) return false;
        }
        if (!TryReadTlv(ref tbs, Sequence, out ReadOnlySpan<byte> spki)
            || !TryReadTlv(ref spki, Sequence, out ReadOnlySpan<byte> algorithm)
            || !TryReadTlv(ref algorithm, ObjectIdentifier, out ReadOnlySpan<byte> keyType)
            || !keyType.SequenceEqual(IdEcPublicKey)
            || !TryReadTlv(ref algorithm, ObjectIdentifier, out ReadOnlySpan<byte> curveOid)
            || !TryReadTlv(ref spki, BitString, out ReadOnlySpan<byte> bits))
            return false;
        ECCurve curve;
        int fieldLength;
        if (curveOid.SequenceEqual(Secp256r1)) (curve, fieldLength) = (ECCurve.NamedCurves.nistP256, 32);
        else if (curveOid.SequenceEqual(Secp384r1)) (curve, fieldLength) = (ECCurve.NamedCurves.nistP384, 48);
        else if (curveOid.SequenceEqual(Secp521r1)) (curve, fieldLength) = (ECCurve.NamedCurves.nistP521, 66);
        else return false;
        // No unused bits, then an uncompressed point 0x04 | X | Y (RFC 5480 §2.2).
        if (bits.Length != 2 + 2 * fieldLength || bits[0] != 0 || bits[1] != 4) return false;
        parameters = new ECParameters
        {
            Curve = curve,
            Q = new ECPoint { X = bits.Slice(2, fieldLength).ToArray(), Y = bits.Slice(2 + fieldLength, fieldLength).ToArray() },
        };
        return true;
    }

    private static bool TrySkip(ref ReadOnlySpan<byte> data) => TryReadTlv(ref data, null, out _);

    /// <summary>One DER tag-length-value with a one-byte tag and a definite length (X.690 §8.1).</summary>
    private static bool TryReadTlv(ref ReadOnlySpan<byte> data, byte? expectedTag, out ReadOnlySpan<byte> content)
    {
        content = default;
        if (data.Length < 2 || (expectedTag is { } tag && data[0] != tag)) return false;
        int length = data[1];
        int header = 2;
        if (length >= 0x80)
        {
            int count = length & 0x7F;
            // Certificates fit in a handshake message (< 2^24), so three length bytes are plenty.
            if (count == 0 || count > 3 || data.Length < 2 + count) return false;
            length = 0;
            for (int i = 0; i < count; i++) length = (length << 8) | data[2 + i];
            header += count;
        }
        if (length > data.Length - header) return false;
        content = data.Slice(header, length);
        data = data[(header + length)..];
        return true;
    }
}
