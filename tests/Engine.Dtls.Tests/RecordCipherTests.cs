using System.Security.Cryptography;
using Engine.Dtls.Record;

namespace Engine.Dtls.Tests;

/// <summary>The record AEAD through libcrypto against .NET's AesGcm, and bad tags as return values.</summary>
public class RecordCipherTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void SealedRecordsMatchDotNetsAesGcmAndOpen(int keyLength)
    {
        var rng = new Random(keyLength);
        var key = new byte[keyLength];
        var iv = new byte[4];
        rng.NextBytes(key);
        rng.NextBytes(iv);
        using var cipher = new RecordCipher(key, iv);
        Assert.True(cipher.IsNative); // libcrypto is on every machine the engine runs on
        using var reference = new AesGcm(key, RecordCipher.TagLength);
        foreach (int size in new[] { 0, 1, 15, 16, 17, 100, 1200, 1500 })
        {
            var plain = new byte[size];
            rng.NextBytes(plain);
            ulong seq = (1UL << 48) + (uint)size;
            var record = new byte[size + RecordCipher.Overhead];
            Assert.Equal(record.Length, cipher.Seal(seq, ContentType.ApplicationData, plain, record));

            // The same nonce (implicit IV | epoch+seq) and AAD (RFC 5246 §6.2.3.3) through .NET.
            var nonce = new byte[12];
            iv.CopyTo(nonce, 0);
            record.AsSpan(0, 8).CopyTo(nonce.AsSpan(4));
            var aad = new byte[13];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(aad, seq);
            aad[8] = (byte)ContentType.ApplicationData;
            aad[9] = 0xFE; aad[10] = 0xFD;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(aad.AsSpan(11), (ushort)size);
            var expectedCipher = new byte[size];
            var expectedTag = new byte[16];
            reference.Encrypt(nonce, plain, expectedCipher, expectedTag, aad);
            Assert.Equal(expectedCipher, record.AsSpan(8, size).ToArray());
            Assert.Equal(expectedTag, record.AsSpan(8 + size).ToArray());

            var opened = new byte[size];
            Assert.True(cipher.TryOpen(seq, ContentType.ApplicationData, record, opened, out int length));
            Assert.Equal(size, length);
            Assert.Equal(plain, opened);
        }
    }

    [Fact]
    public void ABadTagOrWrongHeaderIsAReturnValueNotAnException()
    {
        var key = new byte[16];
        using var cipher = new RecordCipher(key, new byte[4]);
        var plain = new byte[200];
        var record = new byte[plain.Length + RecordCipher.Overhead];
        cipher.Seal(5, ContentType.ApplicationData, plain, record);
        var opened = new byte[plain.Length];

        int thrown = 0;
        var thread = Environment.CurrentManagedThreadId;
        EventHandler<System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs> onThrow = (_, _) =>
        {
            if (Environment.CurrentManagedThreadId == thread) thrown++;
        };
        AppDomain.CurrentDomain.FirstChanceException += onThrow;
        try
        {
            for (int i = 0; i < record.Length; i++)
            {
                record[i] ^= 0x40;
                Assert.False(cipher.TryOpen(5, ContentType.ApplicationData, record, opened, out int length));
                Assert.Equal(0, length);
                record[i] ^= 0x40;
            }
            Assert.False(cipher.TryOpen(6, ContentType.ApplicationData, record, opened, out _)); // another sequence number
            Assert.False(cipher.TryOpen(5, ContentType.Handshake, record, opened, out _));      // another content type
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= onThrow;
        }
        Assert.Equal(0, thrown);
        // The context is still good after all those failures.
        Assert.True(cipher.TryOpen(5, ContentType.ApplicationData, record, opened, out _));
    }

    [Fact]
    public void SealingAndOpeningAllocateNothing()
    {
        using var cipher = new RecordCipher(new byte[16], new byte[4]);
        var plain = new byte[1000];
        var record = new byte[plain.Length + RecordCipher.Overhead];
        var opened = new byte[plain.Length];
        for (int i = 0; i < 10; i++)
        {
            cipher.Seal((ulong)i, ContentType.ApplicationData, plain, record);
            cipher.TryOpen((ulong)i, ContentType.ApplicationData, record, opened, out _);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            cipher.Seal((ulong)i, ContentType.ApplicationData, plain, record);
            cipher.TryOpen((ulong)i, ContentType.ApplicationData, record, opened, out _);
            record[20] ^= 1;
            cipher.TryOpen((ulong)i, ContentType.ApplicationData, record, opened, out _);
        }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
