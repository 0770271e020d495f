using System.Security.Cryptography;
using System.Text;

namespace Engine.Ice;

/// <summary>
/// The long-term credential key of RFC 8489 §9.2.2 (MD5 variant):
/// key = MD5(username ":" realm ":" password). The strings are taken as UTF-8 as given: no
/// SASLprep/OpaqueString normalization (RFC 8265) is applied, so callers must pass already
/// normalized text (plain ASCII credentials are unaffected). Meant to run once per TURN
/// allocation or session, then wrapped in a <see cref="StunMessageIntegrityKey"/>.
/// </summary>
public static class StunLongTermCredential
{
    public const int KeyLength = 16;

    /// <summary>Writes the 16-byte key; false if the destination is shorter than 16 bytes.</summary>
    public static bool TryComputeKey(ReadOnlySpan<char> username, ReadOnlySpan<char> realm, ReadOnlySpan<char> password, Span<byte> destination)
    {
        if (destination.Length < KeyLength)
            return false;
        int length = Encoding.UTF8.GetByteCount(username) + 1 + Encoding.UTF8.GetByteCount(realm) + 1 + Encoding.UTF8.GetByteCount(password);
        Span<byte> input = length <= 1024 ? stackalloc byte[1024] : new byte[length];
        input = input[..length];
        int at = Encoding.UTF8.GetBytes(username, input);
        input[at++] = (byte)':';
        at += Encoding.UTF8.GetBytes(realm, input[at..]);
        input[at++] = (byte)':';
        Encoding.UTF8.GetBytes(password, input[at..]);
        MD5.HashData(input, destination);
        CryptographicOperations.ZeroMemory(input);
        return true;
    }
}
