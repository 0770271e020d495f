using System.Security.Cryptography;
using System.Text;
using Engine.Ice;

namespace Engine.Ice.Tests;

/// <summary>The managed SHA-1/HMAC-SHA1 and the FINGERPRINT CRC-32 against independent references.</summary>
public class StunDigestTests
{
    [Fact]
    public void Crc32_MatchesTheStandardCheckValue()
    {
        // The CRC-32 (ISO-HDLC) catalogue check value for "123456789".
        Assert.Equal(0xCBF43926u, StunCrc32.Compute("123456789"u8));
        Assert.Equal(0u, StunCrc32.Compute(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void Crc32_SlicedLoopAgreesWithBytewiseForEveryLengthAndOffset()
    {
        var data = new byte[200];
        new Random(5769).NextBytes(data);
        for (int start = 0; start < 9; start++)
            for (int length = 0; start + length <= data.Length; length++)
                Assert.Equal(BitwiseCrc32(data.AsSpan(start, length)), StunCrc32.Compute(data.AsSpan(start, length)));
    }

    // The textbook bit-at-a-time definition, as the reference for the table-driven code.
    private static uint BitwiseCrc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void Sha1_MatchesDotNetForLengthsAroundBlockBoundaries()
    {
        var rng = new Random(1);
        var digest = new byte[20];
        for (int length = 0; length <= 300; length++)
        {
            var data = new byte[length];
            rng.NextBytes(data);
            int split = length == 0 ? 0 : rng.Next(length + 1);
            var h = StunSha1.Initial;
            h.Finish(0, data.AsSpan(0, split), data.AsSpan(split), digest);
            Assert.Equal(Convert.ToHexString(SHA1.HashData(data)), Convert.ToHexString(digest));
        }
    }

    [Fact]
    public void Sha1_Fips180Example()
    {
        // FIPS 180-4 example "abc" (NIST CSRC SHA1.pdf).
        var digest = new byte[20];
        var h = StunSha1.Initial;
        h.Finish(0, "abc"u8, default, digest);
        Assert.Equal("A9993E364706816ABA3E25717850C26C9CD0D89D", Convert.ToHexString(digest));
    }

    [Fact]
    public void HmacSha1_MatchesDotNetForShortLongAndBlockSizedKeys()
    {
        var rng = new Random(2);
        var mac = new byte[20];
        foreach (int keyLength in new[] { 0, 1, 16, 20, 24, 63, 64, 65, 100, 200 })
        {
            for (int length = 0; length < 200; length += 7)
            {
                var key = new byte[keyLength];
                var data = new byte[length];
                rng.NextBytes(key);
                rng.NextBytes(data);
                int split = Math.Min(20, length);
                StunMessageIntegrityKey.Create(key).Compute(data.AsSpan(0, split), data.AsSpan(split), mac);
                Assert.Equal(Convert.ToHexString(HMACSHA1.HashData(key, data)), Convert.ToHexString(mac));
            }
        }
    }

    [Fact]
    public void HmacSha1_Rfc2202TestCase2()
    {
        // RFC 2202 §3 test_case 2: key "Jefe", data "what do ya want for nothing?".
        var mac = new byte[20];
        StunMessageIntegrityKey.Create(Encoding.ASCII.GetBytes("Jefe")).Compute("what do ya want "u8, "for nothing?"u8, mac);
        Assert.Equal("EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79", Convert.ToHexString(mac));
    }

    [Fact]
    public void HmacSha256_MatchesDotNetForShortLongAndBlockSizedKeys()
    {
        var rng = new Random(3);
        var mac = new byte[32];
        foreach (int keyLength in new[] { 0, 16, 24, 64, 65, 128 })
        {
            var key = new byte[keyLength];
            var data = new byte[100];
            rng.NextBytes(key);
            rng.NextBytes(data);
            StunHmacSha256.Compute(key, data.AsSpan(0, 20), data.AsSpan(20), mac);
            Assert.Equal(Convert.ToHexString(HMACSHA256.HashData(key, data)), Convert.ToHexString(mac));
        }
    }

    [Theory]
    [InlineData(5)]
    [InlineData(2000)] // past the stack buffer
    public void LongTermKey_IsMd5OfUsernameRealmPassword(int passwordLength)
    {
        string password = new('p', passwordLength);
        var key = new byte[16];
        Assert.True(StunLongTermCredential.TryComputeKey("user", "realm", password, key));
        Assert.Equal(MD5.HashData(Encoding.UTF8.GetBytes("user:realm:" + password)), key);
        Assert.False(StunLongTermCredential.TryComputeKey("user", "realm", password, new byte[15]));
    }
}
