namespace Engine.Dtls;

/// <summary>DTLS-SRTP protection profile ids (RFC 5764 §4.1.2, RFC 7714 §14.2) and their key sizes.</summary>
public static class SrtpProtectionProfile
{
    public const ushort Aes128CmHmacSha1_80 = 0x0001;
    public const ushort Aes128CmHmacSha1_32 = 0x0002;
    public const ushort AeadAes128Gcm = 0x0007;
    public const ushort AeadAes256Gcm = 0x0008;

    public static bool IsSupported(ushort profile) =>
        profile is Aes128CmHmacSha1_80 or Aes128CmHmacSha1_32 or AeadAes128Gcm or AeadAes256Gcm;

    public static int GetKeyLength(ushort profile) => profile == AeadAes256Gcm ? 32 : 16;

    /// <summary>AES-CM profiles use a 112-bit salt, AEAD profiles a 96-bit one (RFC 7714 §12).</summary>
    public static int GetSaltLength(ushort profile) => profile is AeadAes128Gcm or AeadAes256Gcm ? 12 : 14;

    /// <summary>RFC 5764 §4.2: client key, server key, client salt, server salt.</summary>
    public static int GetKeyingMaterialLength(ushort profile) => 2 * (GetKeyLength(profile) + GetSaltLength(profile));
}
