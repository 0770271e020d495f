using System.Security.Cryptography;

namespace Engine.Dtls;

/// <summary>A certificate fingerprint as carried in SDP <c>a=fingerprint</c> (RFC 8122 §5), e.g. <c>sha-256 AB:CD:...</c>.</summary>
public sealed class DtlsFingerprint
{
    private readonly byte[] _value;

    private DtlsFingerprint(string algorithm, byte[] value)
    {
        Algorithm = algorithm;
        _value = value;
    }

    /// <summary>Lower-case SDP hash name: sha-1, sha-256, sha-384 or sha-512.</summary>
    public string Algorithm { get; }

    public ReadOnlySpan<byte> Value => _value;

    public static DtlsFingerprint Compute(string algorithm, ReadOnlySpan<byte> certificateDer)
    {
        string alg = algorithm.ToLowerInvariant();
        byte[] hash = alg switch
        {
            "sha-1" => SHA1.HashData(certificateDer),
            "sha-256" => SHA256.HashData(certificateDer),
            "sha-384" => SHA384.HashData(certificateDer),
            "sha-512" => SHA512.HashData(certificateDer),
            _ => throw new ArgumentException("unsupported fingerprint hash " + algorithm, nameof(algorithm)),
        };
        return new DtlsFingerprint(alg, hash);
    }

    /// <summary>Parses "sha-256 AB:CD:..." (the value of an SDP fingerprint attribute).</summary>
    public static bool TryParse(string text, out DtlsFingerprint? fingerprint)
    {
        fingerprint = null;
        string[] parts = text.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2) return false;
        string alg = parts[0].ToLowerInvariant();
        int expected = alg switch { "sha-1" => 20, "sha-256" => 32, "sha-384" => 48, "sha-512" => 64, _ => 0 };
        if (expected == 0) return false;
        string[] hex = parts[1].Split(':');
        if (hex.Length != expected) return false;
        var value = new byte[expected];
        for (int i = 0; i < expected; i++)
        {
            if (hex[i].Length != 2 || !byte.TryParse(hex[i], System.Globalization.NumberStyles.HexNumber, null, out value[i]))
                return false;
        }
        fingerprint = new DtlsFingerprint(alg, value);
        return true;
    }

    public bool Matches(ReadOnlySpan<byte> certificateDer) =>
        CryptographicOperations.FixedTimeEquals(Compute(Algorithm, certificateDer).Value, _value);

    public override string ToString()
    {
        var text = new System.Text.StringBuilder(Algorithm.Length + 1 + 3 * _value.Length);
        text.Append(Algorithm).Append(' ');
        for (int i = 0; i < _value.Length; i++)
        {
            if (i > 0) text.Append(':');
            text.Append(_value[i].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
