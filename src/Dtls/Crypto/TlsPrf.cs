using System.Security.Cryptography;

namespace Engine.Dtls.Crypto;

/// <summary>RFC 5246 §5: PRF(secret, label, seed) = P_hash(secret, label + seed), with the suite's hash.</summary>
internal static class TlsPrf
{
    private const int MaxHashLength = 64;

    public static void Derive(HashAlgorithmName hash, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> label, ReadOnlySpan<byte> seed, Span<byte> output)
    {
        // One keyed HMAC for the whole expansion: OpenSSL 3 makes each one-shot HMAC set up a new context.
        using IncrementalHash mac = IncrementalHash.CreateHMAC(hash, secret);
        int hashLength = mac.HashLengthInBytes;
        // A(i) | label | seed laid out once, so each block is one AppendData (each is a P/Invoke into
        // OpenSSL): measured 2.7 us instead of 4 us for a 48-byte output.
        int messageLength = hashLength + label.Length + seed.Length;
        Span<byte> message = messageLength <= 256 ? stackalloc byte[256] : new byte[messageLength];
        message = message[..messageLength];
        label.CopyTo(message[hashLength..]);
        seed.CopyTo(message[(hashLength + label.Length)..]);
        Span<byte> a = message[..hashLength];
        Span<byte> block = stackalloc byte[MaxHashLength];
        block = block[..hashLength];
        // A(1) = HMAC(secret, label + seed)
        mac.AppendData(message[hashLength..]);
        mac.GetHashAndReset(a);
        int written = 0;
        while (true)
        {
            mac.AppendData(message);
            mac.GetHashAndReset(block);
            int n = Math.Min(hashLength, output.Length - written);
            block[..n].CopyTo(output[written..]);
            written += n;
            if (written == output.Length) break;
            mac.AppendData(a);
            mac.GetHashAndReset(a); // A(i+1) = HMAC(secret, A(i))
        }
        CryptographicOperations.ZeroMemory(a);
        CryptographicOperations.ZeroMemory(block);
    }
}
