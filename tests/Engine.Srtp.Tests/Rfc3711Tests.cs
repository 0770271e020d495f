using System.Runtime.Intrinsics;
using Engine.Srtp.Crypto;

namespace Engine.Srtp.Tests;

/// <summary>RFC 3711 Appendix B test vectors, on the AES-NI path and on the portable fallback.</summary>
public class Rfc3711Tests
{
    // RFC 3711 §B.2: AES-CM keystream, session key 2B7E..., session salt F0F1...FCFD, SSRC 0, index 0.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void B2_AesCmKeystream(bool accelerated)
    {
        using var aes = new AesCipher(Hex.Parse("2B7E151628AED2A6ABF7158809CF4F3C"), accelerated);
        Assert.Equal(accelerated && System.Runtime.Intrinsics.X86.Aes.IsSupported, aes.IsHardware);
        var iv = Vector128.Create(Hex.Parse("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
        byte[] keystream = new byte[1044512]; // 65282 blocks, as the RFC's segment
        aes.Ctr(iv, 0, keystream);
        Assert.Equal(Hex.Parse("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0"),
            keystream[..48]);
        Assert.Equal(Hex.Parse("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE 6A2CC3787889374FBEB4C81B17BA6C44"),
            keystream[^48..]);
    }

    // RFC 3711 §B.3: key derivation from master key E1F9... and master salt 0EC6..., kdr 0.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void B3_KeyDerivation(bool accelerated)
    {
        using var master = new AesCipher(Hex.Parse("E1F97A0D3E018BE0D64FA32C06DE4139"), accelerated);
        byte[] salt = Hex.Parse("0EC675AD498AFEEBB6960B3AABE6");

        byte[] cipherKey = new byte[16];
        SrtpKeyDerivation.Derive(master, salt, SrtpKeyDerivation.RtpEncryption, cipherKey);
        Assert.Equal(Hex.Parse("C61E7A93744F39EE10734AFE3FF7A087"), cipherKey);

        byte[] cipherSalt = new byte[14];
        SrtpKeyDerivation.Derive(master, salt, SrtpKeyDerivation.RtpSalt, cipherSalt);
        Assert.Equal(Hex.Parse("30CBBC08863D8C85D49DB34A9AE1"), cipherSalt);

        byte[] authKey = new byte[94]; // the RFC's example derives 94 octets
        SrtpKeyDerivation.Derive(master, salt, SrtpKeyDerivation.RtpAuthentication, authKey);
        Assert.Equal(Hex.Parse(
            "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE E049646C43D9327AD175578EF7227098 " +
            "6371C10C9A369AC2F94A8C5FBCDDDC25 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"), authKey);
    }
}
