using System.Runtime.Intrinsics;
using Engine.Srtp.Crypto;

namespace Engine.Srtp;

/// <summary>The AES-CM key derivation of RFC 3711 §4.3.1 and §4.3.3, key derivation rate 0.</summary>
internal static class SrtpKeyDerivation
{
    // RFC 3711 §4.3.1 labels.
    public const byte RtpEncryption = 0x00, RtpAuthentication = 0x01, RtpSalt = 0x02;
    public const byte RtcpEncryption = 0x03, RtcpAuthentication = 0x04, RtcpSalt = 0x05;

    /// <summary>
    /// Fills <paramref name="output"/> with AES-CM(master key, (label XOR master salt) * 2^16).
    /// With kdr = 0, "index DIV kdr" is zero, so the label lands on byte 7 of the 14-byte salt.
    /// A 12-byte AEAD master salt is padded with zeros on the right (RFC 7714 §11, as libsrtp does).
    /// </summary>
    public static void Derive(AesCipher master, ReadOnlySpan<byte> masterSalt, byte label, Span<byte> output)
    {
        Span<byte> x = stackalloc byte[16];
        x.Clear();
        masterSalt.CopyTo(x);
        x[7] ^= label;
        output.Clear();
        master.Ctr(Vector128.Create((ReadOnlySpan<byte>)x), 0, output);
    }
}
