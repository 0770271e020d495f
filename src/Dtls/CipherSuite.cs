namespace Engine.Dtls;

/// <summary>The cipher suites we implement (RFC 5289); values are the IANA code points.</summary>
public enum CipherSuite : ushort
{
    None = 0,
    EcdheEcdsaAes128GcmSha256 = 0xC02B,
    EcdheEcdsaAes256GcmSha384 = 0xC02C,
    EcdheRsaAes128GcmSha256 = 0xC02F,
    EcdheRsaAes256GcmSha384 = 0xC030,
}
