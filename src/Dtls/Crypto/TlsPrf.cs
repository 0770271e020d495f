using System.Security.Cryptography;

namespace Engine.Dtls.Crypto;

/// <summary>RFC 5246 §5: PRF(secret, label, seed) = P_hash(secret, label + seed), with the suite's hash.</summary>
internal static class TlsPrf
{
    public static void Derive(HashAlgorithmName hash, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> label, ReadOnlySpan<byte> seed, Span<byte> output)
    {
        // One keyed HMAC for the whole expansion: OpenSSL 3 makes each one-shot HMAC set up a new context.
        using IncrementalHash mac = IncrementalHash.CreateHMAC(hash, secret);
        int hashLength = mac.HashLengthInBytes;
        Span<byte> a = stackalloc byte[64];
        Span<byte> block = stackalloc byte[64];
        a = a[..hashLength];
        block = block[..hashLength];
        // A(1) = HMAC(secret, label + seed)
        mac.AppendData(label);
        mac.AppendData(seed);
        mac.GetHashAndReset(a);
        int written = 0;
        while (written < output.Length)
        {
            mac.AppendData(a);
            mac.AppendData(label);
            mac.AppendData(seed);
            mac.GetHashAndReset(block);
            int n = Math.Min(hashLength, output.Length - written);
            block[..n].CopyTo(output[written..]);
            written += n;
            mac.AppendData(a);
            mac.GetHashAndReset(a); // A(i+1) = HMAC(secret, A(i))
        }
        CryptographicOperations.ZeroMemory(a);
        CryptographicOperations.ZeroMemory(block);
    }
}
