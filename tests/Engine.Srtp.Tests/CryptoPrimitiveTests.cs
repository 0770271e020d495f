using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using Engine.Srtp.Crypto;

namespace Engine.Srtp.Tests;

/// <summary>
/// The hand-written primitives against System.Security.Cryptography (OpenSSL underneath) on random
/// keys and lengths, and the accelerated paths against the portable ones.
/// </summary>
public class CryptoPrimitiveTests
{
    [Theory]
    [InlineData(16, true)]
    [InlineData(32, true)]
    [InlineData(16, false)]
    [InlineData(32, false)]
    public void AesCtr_MatchesDotNetAesEcbOfCounterBlocks(int keyLength, bool accelerated)
    {
        var rng = new Random(keyLength * 7 + (accelerated ? 1 : 0));
        for (int round = 0; round < 50; round++)
        {
            byte[] key = new byte[keyLength];
            rng.NextBytes(key);
            byte[] ivBytes = new byte[16];
            rng.NextBytes(ivBytes.AsSpan(0, 12));
            uint counter = (uint)rng.Next(0, 1 << 20);
            byte[] data = new byte[rng.Next(0, 600)];
            rng.NextBytes(data);

            byte[] expected = (byte[])data.Clone();
            using (var reference = Aes.Create())
            {
                reference.Key = key;
                for (int i = 0; i < expected.Length; i += 16)
                {
                    byte[] block = (byte[])ivBytes.Clone();
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(block.AsSpan(12), counter + (uint)(i / 16));
                    byte[] ks = reference.EncryptEcb(block, PaddingMode.None);
                    for (int j = 0; j < 16 && i + j < expected.Length; j++) expected[i + j] ^= ks[j];
                }
            }
            using var aes = new AesCipher(key, accelerated);
            aes.Ctr(Vector128.Create(ivBytes), counter, data);
            Assert.Equal(expected, data);
        }
    }

    [Theory]
    [InlineData(16, true)]
    [InlineData(32, true)]
    [InlineData(16, false)]
    [InlineData(32, false)]
    public void Gcm_MatchesDotNetAesGcm(int keyLength, bool accelerated)
    {
        var rng = new Random(100 + keyLength + (accelerated ? 1 : 0));
        for (int round = 0; round < 100; round++)
        {
            byte[] key = new byte[keyLength];
            rng.NextBytes(key);
            byte[] nonce = new byte[12];
            rng.NextBytes(nonce);
            byte[] aad = new byte[rng.Next(0, 80)];
            rng.NextBytes(aad);
            byte[] plain = new byte[rng.Next(0, 1500)];
            rng.NextBytes(plain);

            byte[] expected = new byte[plain.Length];
            byte[] expectedTag = new byte[16];
            using (var reference = new AesGcm(key, 16)) reference.Encrypt(nonce, plain, expected, expectedTag, aad);

            byte[] ivBytes = new byte[16];
            nonce.CopyTo(ivBytes, 0);
            using var gcm = new GcmCipher(key, accelerated);
            Assert.Equal(accelerated && System.Runtime.Intrinsics.X86.Pclmulqdq.IsSupported, gcm.IsHardware);
            byte[] data = (byte[])plain.Clone();
            byte[] tag = new byte[16];
            gcm.Seal(Vector128.Create(ivBytes), aad, data, tag);
            Assert.Equal(expected, data);
            Assert.Equal(expectedTag, tag);

            Assert.True(gcm.Open(Vector128.Create(ivBytes), aad, data, tag));
            Assert.Equal(plain, data);
            gcm.Seal(Vector128.Create(ivBytes), aad, data, tag);
            tag[rng.Next(16)] ^= (byte)(1 << rng.Next(8));
            Assert.False(gcm.Open(Vector128.Create(ivBytes), aad, data, tag));
            Assert.Equal(expected, data); // a failed open leaves the ciphertext alone
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HmacSha1_MatchesDotNetHmacSha1(bool allowNative)
    {
        var rng = new Random(allowNative ? 7 : 8);
        for (int round = 0; round < 100; round++)
        {
            byte[] key = new byte[20];
            rng.NextBytes(key);
            byte[] data = new byte[rng.Next(0, 1500)];
            rng.NextBytes(data);
            byte[] suffix = new byte[rng.Next(0, 5)];
            rng.NextBytes(suffix);

            byte[] expected = HMACSHA1.HashData(key, data.Concat(suffix).ToArray());
            using var mac = new HmacSha1(key, allowNative);
            byte[] actual = new byte[20];
            mac.Compute(data, suffix, actual);
            Assert.Equal(expected, actual);
            mac.Compute(data, suffix, actual); // state is not consumed by a packet
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void ThisMachine_UsesTheAcceleratedPaths()
    {
        // The benchmarks and the zero-allocation tests mean nothing on the fallback path.
        Assert.True(System.Runtime.Intrinsics.X86.Aes.IsSupported, SrtpSession.Implementation);
        Assert.True(System.Runtime.Intrinsics.X86.Pclmulqdq.IsSupported, SrtpSession.Implementation);
        Assert.True(LibCrypto.IsAvailable, SrtpSession.Implementation);
        using var mac = new HmacSha1(new byte[20]);
        Assert.True(mac.IsNative);
    }
}
