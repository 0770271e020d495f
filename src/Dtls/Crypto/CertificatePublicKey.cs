using System.Security.Cryptography;

namespace Engine.Dtls.Crypto;

/// <summary>
/// Reads the EC or RSA public key out of an X.509 certificate's DER without building an X509Certificate2.
/// OpenSSL 3 decodes a certificate's key through its provider decoder framework, which cost more than
/// the rest of the peer's key handling together (measured ~210 us per certificate); the fingerprint
/// already authenticates the bytes (RFC 8827 §6.5), so we only need the key.
/// </summary>
internal static class CertificatePublicKey
{
    private const byte Sequence = 0x30;
    private const byte Integer = 0x02;
    private const byte ObjectIdentifier = 0x06;
    private const byte BitString = 0x03;
    private const byte ExplicitVersion = 0xA0;

    // RFC 5480 §2.1.1: id-ecPublicKey and the named curves we accept.
    // RFC 8017 §A.1: rsaEncryption, 1.2.840.113549.1.1.1.
    private static ReadOnlySpan<byte> RsaEncryption => [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
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
        if (!TryReadSubjectPublicKeyInfo(certificate, out ReadOnlySpan<byte> algorithm, out ReadOnlySpan<byte> bits)
            || !TryReadTlv(ref algorithm, ObjectIdentifier, out ReadOnlySpan<byte> keyType)
            || !keyType.SequenceEqual(IdEcPublicKey)
            || !TryReadTlv(ref algorithm, ObjectIdentifier, out ReadOnlySpan<byte> curveOid))
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

    /// <summary>
    /// An rsaEncryption key (RFC 8017 §A.1.1: RSAPublicKey ::= SEQUENCE { modulus, publicExponent }) as
    /// big-endian magnitudes without sign bytes. False when malformed or not RSA; the size is not judged here.
    /// </summary>
    public static bool TryReadRsa(ReadOnlySpan<byte> certificate, out ReadOnlySpan<byte> modulus, out ReadOnlySpan<byte> exponent)
    {
        modulus = exponent = default;
        if (!TryReadSubjectPublicKeyInfo(certificate, out ReadOnlySpan<byte> algorithm, out ReadOnlySpan<byte> bits)
            || !TryReadTlv(ref algorithm, ObjectIdentifier, out ReadOnlySpan<byte> keyType)
            || !keyType.SequenceEqual(RsaEncryption)
            || bits.Length < 1 || bits[0] != 0)
            return false;
        bits = bits[1..];
        if (!TryReadTlv(ref bits, Sequence, out ReadOnlySpan<byte> key) || bits.Length != 0
            || !TryReadPositiveInteger(ref key, out modulus)
            || !TryReadPositiveInteger(ref key, out exponent)
            || key.Length != 0)
            return false;
        return true;
    }

    /// <summary>Bit length of a big-endian magnitude with no leading zero byte.</summary>
    public static int BitLength(ReadOnlySpan<byte> magnitude) =>
        magnitude.Length == 0 ? 0 : 8 * (magnitude.Length - 1) + (32 - System.Numerics.BitOperations.LeadingZeroCount((uint)magnitude[0]));

    private static bool TryReadSubjectPublicKeyInfo(ReadOnlySpan<byte> certificate, out ReadOnlySpan<byte> algorithm, out ReadOnlySpan<byte> bits)
    {
        algorithm = bits = default;
        if (!TryReadTlv(ref certificate, Sequence, out ReadOnlySpan<byte> cert)
            || !TryReadTlv(ref cert, Sequence, out ReadOnlySpan<byte> tbs))
            return false;
        if (tbs.Length > 0 && tbs[0] == ExplicitVersion && !TrySkip(ref tbs)) return false;
        // serialNumber, signature, issuer, validity, subject
        for (int i = 0; i < 5; i++)
        {
            if (!TrySkip(ref tbs)) return false;
        }
        return TryReadTlv(ref tbs, Sequence, out ReadOnlySpan<byte> spki)
            && TryReadTlv(ref spki, Sequence, out algorithm)
            && TryReadTlv(ref spki, BitString, out bits);
    }

    /// <summary>A DER INTEGER that is positive; its magnitude without the sign byte (X.690 §8.3).</summary>
    private static bool TryReadPositiveInteger(scoped ref ReadOnlySpan<byte> data, out ReadOnlySpan<byte> magnitude)
    {
        magnitude = default;
        if (!TryReadTlv(ref data, Integer, out ReadOnlySpan<byte> value) || value.Length == 0 || (value[0] & 0x80) != 0) return false;
        if (value[0] == 0)
        {
            // DER: a zero byte only before a byte with its top bit set.
            if (value.Length == 1 || (value[1] & 0x80) == 0) return false;
            value = value[1..];
        }
        magnitude = value;
        return true;
    }

    private static bool TrySkip(scoped ref ReadOnlySpan<byte> data) => TryReadTlv(ref data, null, out _);

    /// <summary>One DER tag-length-value with a one-byte tag and a definite length (X.690 §8.1).</summary>
    private static bool TryReadTlv(scoped ref ReadOnlySpan<byte> data, byte? expectedTag, out ReadOnlySpan<byte> content)
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
