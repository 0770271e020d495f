using System.Buffers.Binary;
using System.Text;
using Engine.Ice;
using FsCheck;
using FsCheck.Fluent;

namespace Engine.Ice.Tests;

/// <summary>
/// Truncated, oversized, random and bit-flipped input: the parser answers false or a view whose
/// getters and verifiers stay inside the bytes; nothing throws.
/// </summary>
public class StunFuzzTests
{
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("5PXyuI0CUP0DSJClaph46Xds");

    private static List<byte[]> RealMessages()
    {
        var list = ChromiumCaptureTests.StunDatagrams().Select(d => d.Payload).ToList();
        list.Add(Rfc5769Tests.SampleRequest);
        return list;
    }

    /// <summary>Touches everything a view offers; returns whether it parsed.</summary>
    internal static bool ParseEverything(ReadOnlySpan<byte> bytes)
    {
        _ = StunMessageView.LooksLikeStun(bytes);
        if (!StunMessageView.TryRead(bytes, out var m))
            return false;
        _ = m.Method;
        _ = m.Class;
        _ = m.TransactionId.Length;
        _ = m.TryGetUsername(out _) | m.TryGetRealm(out _) | m.TryGetNonce(out _) | m.TryGetSoftware(out _) | m.TryGetData(out _);
        _ = m.TryGetPriority(out _) | m.HasUseCandidate | m.TryGetIceControlling(out _) | m.TryGetIceControlled(out _);
        _ = m.TryGetLifetime(out _) | m.TryGetRequestedTransport(out _) | m.TryGetChannelNumber(out _);
        _ = m.TryGetXorMappedAddress(out _) | m.TryGetXorPeerAddress(out _) | m.TryGetXorRelayedAddress(out _) | m.TryGetMappedAddress(out _);
        _ = m.TryGetErrorCode(out _, out _);
        Span<StunAttributeType> types = stackalloc StunAttributeType[4];
        _ = m.GetUnknownAttributes(types);
        _ = m.GetUnknownComprehensionRequired(types);
        _ = m.VerifyMessageIntegrity(Key) | m.VerifyMessageIntegritySha256(Key) | m.VerifyFingerprint();
        for (int t = 0; t < 0x30; t++)
            _ = m.TryGetAttribute((StunAttributeType)t, out _);
        _ = m.TryGetAttribute(StunAttributeType.Fingerprint, out _);
        return true;
    }

    [Fact]
    public void Truncated_NeverParsesAsIs_AndNeverThrowsWithAPatchedLength()
    {
        foreach (var message in RealMessages())
        {
            for (int length = 0; length < message.Length; length++)
            {
                Assert.False(ParseEverything(message.AsSpan(0, length)));
                if (length >= 20)
                {
                    // Make the header agree with the cut, so the attribute walk meets the cut.
                    byte[] cut = message[..length];
                    BinaryPrimitives.WriteUInt16BigEndian(cut.AsSpan(2), (ushort)(length - 20));
                    if (ParseEverything(cut))
                        Assert.True(length % 4 == 0);
                }
            }
        }
    }

    [Fact]
    public void Oversized_IsRejectedOrLosesItsFingerprint()
    {
        var rng = new Random(8489);
        foreach (var message in RealMessages())
        {
            foreach (int extra in new[] { 1, 4, 8, 64, 1500, 70000 })
            {
                byte[] big = new byte[message.Length + extra];
                message.CopyTo(big, 0);
                rng.NextBytes(big.AsSpan(message.Length));
                Assert.False(ParseEverything(big));
                if (big.Length - 20 <= 0xFFFF)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(big.AsSpan(2), (ushort)(big.Length - 20));
                    // Anything after FINGERPRINT makes the message invalid (RFC 8489 §14.7).
                    Assert.False(ParseEverything(big));
                }
            }
        }
    }

    [Fact]
    public void EverySingleBitFlipOfARealMessage_IsDetected()
    {
        int flips = 0;
        foreach (var original in RealMessages())
        {
            Assert.True(StunMessageView.TryRead(original, out var intact));
            Assert.True(intact.VerifyFingerprint());
            byte[] message = (byte[])original.Clone();
            for (int bit = 0; bit < message.Length * 8; bit++)
            {
                message[bit / 8] ^= (byte)(1 << (bit % 8));
                bool accepted = StunMessageView.TryRead(message, out var m) && m.VerifyFingerprint();
                _ = ParseEverything(message);
                Assert.False(accepted, $"bit {bit} flipped and the message still verified");
                message[bit / 8] ^= (byte)(1 << (bit % 8));
                flips++;
            }
            Assert.Equal(original, message);
        }
        Assert.True(flips > 20_000, $"{flips} flips");
    }

    [Fact]
    public void RandomBitFlipsInsideAttributes_NeverThrow()
    {
        var rng = new Random(5389);
        var messages = RealMessages();
        for (int i = 0; i < 20_000; i++)
        {
            byte[] m = (byte[])messages[rng.Next(messages.Count)].Clone();
            int flips = 1 + rng.Next(8);
            for (int f = 0; f < flips; f++)
                m[20 + rng.Next(m.Length - 20)] ^= (byte)(1 << rng.Next(8));
            ParseEverything(m);
        }
    }

    [Fact]
    public void RandomBytesWithAValidHeader_NeverThrow()
    {
        var rng = new Random(3489);
        var buffer = new byte[600];
        int parsed = 0;
        for (int i = 0; i < 50_000; i++)
        {
            int length = 20 + 4 * rng.Next(146);
            rng.NextBytes(buffer.AsSpan(0, length));
            buffer[0] &= 0x01;
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)(length - 20));
            BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4), StunMessageView.MagicCookie);
            // Usually shape the attribute headers so the walk reaches the getters; sometimes leave noise.
            if (rng.Next(8) != 0)
            {
                for (int at = 20; at + 4 <= length;)
                {
                    int valueLength = rng.Next(Math.Min(25, length - at - 4 + 1));
                    BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(at), (ushort)rng.Next(0x30));
                    BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(at + 2), (ushort)valueLength);
                    at += 4 + ((valueLength + 3) & ~3);
                }
            }
            if (ParseEverything(buffer.AsSpan(0, length)))
                parsed++;
        }
        Assert.True(parsed > 10_000, $"only {parsed} random messages got past the header");
    }

    [Fact]
    public void FsCheck_ArbitraryBytesNeverThrow()
    {
        Prop.ForAll<byte[]>(bytes =>
        {
            ParseEverything(bytes);
            if (bytes.Length >= 20)
            {
                bytes[0] &= 0x3F;
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)(bytes.Length - 20));
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), StunMessageView.MagicCookie);
                ParseEverything(bytes);
            }
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(5000));
    }
}
