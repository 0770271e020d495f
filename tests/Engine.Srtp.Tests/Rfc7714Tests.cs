namespace Engine.Srtp.Tests;

/// <summary>
/// RFC 7714 §16 (SRTP) and §17 (SRTCP) AES-GCM test vectors. They give the session key and salt
/// directly, so they drive <see cref="SrtpSession"/> through its session-key constructor.
/// The RFC text was not reachable offline; the values were taken from other projects' test suites
/// that quote the RFC (two independent copies agree for §16.1 and §17.2), and libsrtp2 cross-checks
/// the same code in <see cref="LibSrtpInteropTests"/>.
/// </summary>
public class Rfc7714Tests
{
    private static readonly byte[] Key128 = Hex.Parse("000102030405060708090a0b0c0d0e0f");
    private static readonly byte[] Key256 = Hex.Parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    private static readonly byte[] Salt = Hex.Parse("517569642070726f2071756f"); // "Quid pro quo"

    private static readonly byte[] Rtp = Hex.Parse(
        "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573");

    private static readonly byte[] Rtcp = Hex.Parse(
        "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef");

    private const uint RtcpSsrc = 0x4d617273; // "Mars"
    private const uint RtcpIndex = 0x5d4;

    public static TheoryData<SrtpProfile, bool, string> SrtpVectors => new()
    {
        // §16.1.1 / §16.1.2: AEAD_AES_128_GCM encryption and decryption
        { SrtpProfile.AeadAes128Gcm, true, "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce" },
        { SrtpProfile.AeadAes128Gcm, false, "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce" },
        // §16.2.1 / §16.2.2: AEAD_AES_256_GCM
        { SrtpProfile.AeadAes256Gcm, true, "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13" },
        { SrtpProfile.AeadAes256Gcm, false, "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13" },
    };

    [Theory]
    [MemberData(nameof(SrtpVectors))]
    public void Section16_SrtpEncryptionAndDecryption(SrtpProfile profile, bool accelerated, string expectedHex)
    {
        byte[] expected = Hex.Parse(expectedHex);
        using var session = new SrtpSession(profile, profile == SrtpProfile.AeadAes128Gcm ? Key128 : Key256, Salt, accelerated);

        byte[] buffer = new byte[Rtp.Length + session.RtpOverhead];
        Rtp.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, session.ProtectRtp(buffer, Rtp.Length, out int protectedLength));
        Assert.Equal(expected, buffer[..protectedLength]);

        byte[] received = (byte[])expected.Clone();
        Assert.Equal(SrtpResult.Ok, session.UnprotectRtp(received, out int plainLength));
        Assert.Equal(Rtp, received[..plainLength]);

        // The decryption vector, tampered with in its tag, must fail.
        byte[] tampered = (byte[])expected.Clone();
        tampered[^1] ^= 0x01;
        using var fresh = new SrtpSession(profile, profile == SrtpProfile.AeadAes128Gcm ? Key128 : Key256, Salt, accelerated);
        Assert.Equal(SrtpResult.AuthFailed, fresh.UnprotectRtp(tampered, out _));
    }

    // §17.1: SRTCP AEAD_AES_128_GCM encryption, SRTCP index 0x5d4, E set.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Section17_1_SrtcpEncryption128(bool accelerated)
    {
        byte[] expected = Hex.Parse(
            "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda " +
            "4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4");
        using var session = new SrtpSession(SrtpProfile.AeadAes128Gcm, Key128, Salt, accelerated);
        session.Local.SetNextRtcpIndex(RtcpSsrc, RtcpIndex);
        byte[] buffer = new byte[Rtcp.Length + session.RtcpOverhead];
        Rtcp.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, session.ProtectRtcp(buffer, Rtcp.Length, out int protectedLength));
        Assert.Equal(expected, buffer[..protectedLength]);

        Assert.Equal(SrtpResult.Ok, session.UnprotectRtcp(buffer.AsSpan(0, protectedLength), out int plainLength));
        Assert.Equal(Rtcp, buffer[..plainLength]);
    }

    public static TheoryData<SrtpProfile, bool, string> SrtcpDecryptionVectors => new()
    {
        // §17.2: AEAD_AES_256_GCM SRTCP verification and decryption
        { SrtpProfile.AeadAes256Gcm, true, "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4" },
        { SrtpProfile.AeadAes256Gcm, false, "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4" },
        // §17.3: AEAD_AES_128_GCM SRTCP authentication only (E clear)
        { SrtpProfile.AeadAes128Gcm, true, "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4" },
        { SrtpProfile.AeadAes128Gcm, false, "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4" },
        // §17.4: AEAD_AES_256_GCM SRTCP authentication only
        { SrtpProfile.AeadAes256Gcm, true, "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 91db4afb feee5a97 8fab4393 ed2615fe 000005d4" },
    };

    [Theory]
    [MemberData(nameof(SrtcpDecryptionVectors))]
    public void Section17_SrtcpDecryption(SrtpProfile profile, bool accelerated, string packetHex)
    {
        byte[] packet = Hex.Parse(packetHex);
        using var session = new SrtpSession(profile, profile == SrtpProfile.AeadAes128Gcm ? Key128 : Key256, Salt, accelerated);

        byte[] tampered = (byte[])packet.Clone();
        tampered[20] ^= 0x80;
        Assert.Equal(SrtpResult.AuthFailed, session.UnprotectRtcp(tampered, out _));

        Assert.Equal(SrtpResult.Ok, session.UnprotectRtcp(packet, out int plainLength));
        Assert.Equal(Rtcp, packet[..plainLength]);

        byte[] again = Hex.Parse(packetHex);
        Assert.Equal(SrtpResult.Replay, session.UnprotectRtcp(again, out _));
        Assert.Equal(1, session.Counters.Replayed);
        Assert.Equal(1, session.Counters.AuthFailed);
    }
}
