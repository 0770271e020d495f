using System.Diagnostics.CodeAnalysis;

namespace Engine.Rtp.Sdp;

/// <summary>An a=fingerprint value (RFC 8122 §5): hash function name and the certificate digest,
/// written as upper-case hex pairs separated by colons.</summary>
public sealed class SdpFingerprint : IEquatable<SdpFingerprint>
{
    public const int MaxDigestLength = 64;

    public SdpFingerprint(string algorithm, byte[] digest)
    {
        Algorithm = algorithm;
        Digest = digest;
    }

    /// <summary>hash-func as written, e.g. "sha-256" (compared case-insensitively, RFC 8122 §5).</summary>
    public string Algorithm { get; }

    public byte[] Digest { get; }

    /// <summary>Parses "sha-256 8A:DE:..." (the attribute value).</summary>
    public static bool TryParse(string? value, [NotNullWhen(true)] out SdpFingerprint? fingerprint, out string reason)
    {
        fingerprint = null;
        if (value is null) { reason = "fingerprint is missing"; return false; }
        var parts = value.Split((char[]?)[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2) { reason = "fingerprint needs '<hash-func> <XX:XX:...>'"; return false; }
        if (!SdpSyntax.IsToken(parts[0])) { reason = $"hash function '{parts[0]}' is not a token"; return false; }
        if (!TryParseDigest(parts[1], out var digest)) { reason = "fingerprint digest is not colon-separated hex pairs"; return false; }
        int expected = ExpectedLength(parts[0]);
        if (expected != 0 && digest.Length != expected)
        {
            reason = $"{parts[0]} digest has {digest.Length} bytes, expected {expected}";
            return false;
        }
        fingerprint = new SdpFingerprint(parts[0], digest);
        reason = "";
        return true;
    }

    /// <summary>Parses the "AB:CD:..." form (RFC 8122 §5 fingerprint; lower-case hex accepted).</summary>
    public static bool TryParseDigest(string? text, [NotNullWhen(true)] out byte[]? digest)
    {
        digest = null;
        if (text is null || text.Length < 2 || (text.Length + 1) % 3 != 0) return false;
        int n = (text.Length + 1) / 3;
        if (n > MaxDigestLength) return false;
        var bytes = new byte[n];
        for (int i = 0; i < n; i++)
        {
            int at = i * 3;
            if (i > 0 && text[at - 1] != ':') return false;
            int hi = HexValue(text[at]), lo = HexValue(text[at + 1]);
            if (hi < 0 || lo < 0) return false;
            bytes[i] = (byte)(hi << 4 | lo);
        }
        digest = bytes;
        return true;
    }

    public string FormatDigest()
    {
        if (Digest.Length == 0) return "";
        return string.Create(Digest.Length * 3 - 1, Digest, static (span, d) =>
        {
            const string hex = "0123456789ABCDEF";
            for (int i = 0; i < d.Length; i++)
            {
                if (i > 0) span[i * 3 - 1] = ':';
                span[i * 3] = hex[d[i] >> 4];
                span[i * 3 + 1] = hex[d[i] & 0xF];
            }
        });
    }

    /// <summary>The attribute value: "sha-256 8A:DE:...".</summary>
    public override string ToString() => Algorithm + " " + FormatDigest();

    public bool Equals(SdpFingerprint? other) =>
        other is not null && string.Equals(Algorithm, other.Algorithm, StringComparison.OrdinalIgnoreCase) && Digest.AsSpan().SequenceEqual(other.Digest);

    public override bool Equals(object? obj) => Equals(obj as SdpFingerprint);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Algorithm, StringComparer.OrdinalIgnoreCase);
        h.AddBytes(Digest);
        return h.ToHashCode();
    }

    // Digest sizes of the hash functions RFC 8122 §5 lists; other names are accepted at any length.
    private static int ExpectedLength(string algorithm) => algorithm.ToLowerInvariant() switch
    {
        "md2" or "md5" => 16,
        "sha-1" => 20,
        "sha-224" => 28,
        "sha-256" => 32,
        "sha-384" => 48,
        "sha-512" => 64,
        _ => 0,
    };

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };
}
