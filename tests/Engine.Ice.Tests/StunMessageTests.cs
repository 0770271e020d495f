using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Engine.Ice;

namespace Engine.Ice.Tests;

public class StunMessageTests
{
    private static readonly byte[] TransactionId = Convert.FromHexString("0102030405060708090A0B0C");
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("n/2TSotsQp3jMAJGDUiT+yQa");

    [Theory]
    [InlineData(StunMethod.Binding, StunClass.Request, 0x0001)]
    [InlineData(StunMethod.Binding, StunClass.Indication, 0x0011)]
    [InlineData(StunMethod.Binding, StunClass.SuccessResponse, 0x0101)]
    [InlineData(StunMethod.Binding, StunClass.ErrorResponse, 0x0111)]
    [InlineData(StunMethod.Allocate, StunClass.Request, 0x0003)]
    [InlineData(StunMethod.Allocate, StunClass.ErrorResponse, 0x0113)]
    [InlineData(StunMethod.Send, StunClass.Indication, 0x0016)]
    [InlineData(StunMethod.Data, StunClass.Indication, 0x0017)]
    [InlineData(StunMethod.ChannelBind, StunClass.SuccessResponse, 0x0109)]
    public void MessageType_MatchesRfcValues(StunMethod method, StunClass stunClass, int type)
    {
        // RFC 8489 §5 and RFC 8656 §17 message type values.
        Assert.Equal((ushort)type, StunMessageWriter.EncodeMessageType(method, stunClass));
        Assert.Equal(method, StunMessageView.DecodeMethod((ushort)type));
        Assert.Equal(stunClass, StunMessageView.DecodeClass((ushort)type));
    }

    [Fact]
    public void MessageType_RoundTripsEveryMethodAndClass()
    {
        for (int m = 0; m <= 0xFFF; m++)
            for (int c = 0; c < 4; c++)
            {
                ushort type = StunMessageWriter.EncodeMessageType((StunMethod)m, (StunClass)c);
                Assert.Equal(0, type & 0xC000);
                Assert.Equal((StunMethod)m, StunMessageView.DecodeMethod(type));
                Assert.Equal((StunClass)c, StunMessageView.DecodeClass(type));
            }
    }

    [Fact]
    public void EveryTypedAttribute_RoundTrips()
    {
        var peer = NetAddress.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::7]:40000"));
        var relayed = NetAddress.FromIPEndPoint(IPEndPoint.Parse("203.0.113.9:50000"));
        var mapped = NetAddress.FromIPEndPoint(IPEndPoint.Parse("198.51.100.1:1"));
        var buffer = new byte[512];
        var w = new StunMessageWriter(buffer, StunMethod.Allocate, StunClass.SuccessResponse, TransactionId);
        Assert.True(w.AddUsername("alice"u8));
        Assert.True(w.AddPriority(0x6e7f1eff));
        Assert.True(w.AddUseCandidate());
        Assert.True(w.AddIceControlling(0x0102030405060708));
        Assert.True(w.AddIceControlled(0xF0E0D0C0B0A09080));
        Assert.True(w.AddLifetime(600));
        Assert.True(w.AddRequestedTransport(17));
        Assert.True(w.AddChannelNumber(0x4001));
        Assert.True(w.AddXorMappedAddress(mapped));
        Assert.True(w.AddXorPeerAddress(peer));
        Assert.True(w.AddXorRelayedAddress(relayed));
        Assert.True(w.AddAttribute(StunAttributeType.Data, [1, 2, 3, 4, 5]));
        Assert.True(w.AddText(StunAttributeType.Realm, "example.org"));
        Assert.True(w.AddText(StunAttributeType.Nonce, "abc"));
        Assert.True(w.AddText(StunAttributeType.Software, "engine"));
        Assert.True(w.AddMessageIntegrity(Key));
        Assert.True(w.AddFingerprint());
        Assert.False(w.Failed);
        Assert.Equal(w.Length - 20, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(2)));

        Assert.True(StunMessageView.TryRead(w.WrittenSpan, out var m));
        Assert.Equal(StunMethod.Allocate, m.Method);
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.True(m.TryGetUsername(out var user) && user.SequenceEqual("alice"u8));
        Assert.True(m.TryGetPriority(out uint priority) && priority == 0x6e7f1eff);
        Assert.True(m.HasUseCandidate);
        Assert.True(m.TryGetIceControlling(out ulong controlling) && controlling == 0x0102030405060708);
        Assert.True(m.TryGetIceControlled(out ulong controlled) && controlled == 0xF0E0D0C0B0A09080);
        Assert.True(m.TryGetLifetime(out uint lifetime) && lifetime == 600);
        Assert.True(m.TryGetRequestedTransport(out byte protocol) && protocol == 17);
        Assert.True(m.TryGetChannelNumber(out ushort channel) && channel == 0x4001);
        Assert.True(m.TryGetXorMappedAddress(out var gotMapped) && gotMapped == mapped);
        Assert.True(m.TryGetXorPeerAddress(out var gotPeer) && gotPeer == peer);
        Assert.True(m.TryGetXorRelayedAddress(out var gotRelayed) && gotRelayed == relayed);
        Assert.True(m.TryGetData(out var data) && data.SequenceEqual(new byte[] { 1, 2, 3, 4, 5 }));
        Assert.True(m.TryGetRealm(out var realm) && realm.SequenceEqual("example.org"u8));
        Assert.True(m.TryGetNonce(out var nonce) && nonce.SequenceEqual("abc"u8));
        Assert.True(m.TryGetSoftware(out var software) && software.SequenceEqual("engine"u8));
        Assert.False(m.TryGetErrorCode(out _, out _));
        Assert.True(m.VerifyMessageIntegrity(Key));
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void Padding_IsZeroAndCountedInTheLength()
    {
        var buffer = new byte[64];
        buffer.AsSpan().Fill(0xEE);
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddUsername("abcde"u8));
        Assert.Equal(20 + 4 + 8, w.Length);
        Assert.Equal(5, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(22)));
        Assert.Equal(new byte[] { 0, 0, 0 }, buffer[29..32]);
    }

    [Fact]
    public void ErrorResponse420_ListsUnknownComprehensionRequiredAttributes()
    {
        var buffer = new byte[256];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddAttribute((StunAttributeType)0x7FF0, [1, 2, 3, 4]));
        Assert.True(w.AddAttribute((StunAttributeType)0xC0DE, [5])); // comprehension-optional: ignored
        Assert.True(w.AddPriority(1));
        Assert.True(w.AddAttribute((StunAttributeType)0x0031, []));
        Assert.True(w.AddMessageIntegrity(Key));
        Assert.True(StunMessageView.TryRead(w.WrittenSpan, out var request));

        Span<StunAttributeType> unknown = stackalloc StunAttributeType[8];
        int count = request.GetUnknownComprehensionRequired(unknown);
        Assert.Equal(2, count);
        Assert.Equal((StunAttributeType)0x7FF0, unknown[0]);
        Assert.Equal((StunAttributeType)0x0031, unknown[1]);
        // With a caller-chosen "understood" set, PRIORITY and MESSAGE-INTEGRITY become unknown too.
        Span<StunAttributeType> scratch = stackalloc StunAttributeType[8];
        Assert.Equal(4, request.GetUnknownComprehensionRequired([StunAttributeType.Username], scratch));
        Assert.Equal(StunAttributeType.Priority, scratch[1]);
        Assert.Equal(StunAttributeType.MessageIntegrity, scratch[3]);
        // A short destination still reports the full count.
        Assert.Equal(2, request.GetUnknownComprehensionRequired(scratch[..1]));

        var answer = new byte[256];
        var e = new StunMessageWriter(answer, StunMethod.Binding, StunClass.ErrorResponse, request.TransactionId);
        Assert.True(e.AddErrorCode(StunErrorCode.UnknownAttribute, "Unknown Attribute"u8));
        Assert.True(e.AddUnknownAttributes(unknown[..count]));
        Assert.True(e.AddFingerprint());
        Assert.True(StunMessageView.TryRead(e.WrittenSpan, out var response));
        Assert.Equal(StunClass.ErrorResponse, response.Class);
        Assert.True(response.TryGetErrorCode(out int code, out var reason));
        Assert.Equal(420, code);
        Assert.Equal("Unknown Attribute", Encoding.UTF8.GetString(reason));
        Span<StunAttributeType> listed = stackalloc StunAttributeType[4];
        Assert.Equal(2, response.GetUnknownAttributes(listed));
        Assert.Equal((StunAttributeType)0x7FF0, listed[0]);
        Assert.Equal((StunAttributeType)0x0031, listed[1]);
        Assert.True(response.VerifyFingerprint());
    }

    [Theory]
    [InlineData(300)]
    [InlineData(401)]
    [InlineData(487)]
    [InlineData(699)]
    public void ErrorCode_RoundTrips(int code)
    {
        var buffer = new byte[64];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.ErrorResponse, TransactionId);
        Assert.True(w.AddErrorCode(code, "x"u8));
        Assert.True(StunMessageView.TryRead(w.WrittenSpan, out var m));
        Assert.True(m.TryGetErrorCode(out int got, out var reason));
        Assert.Equal(code, got);
        Assert.True(reason.SequenceEqual("x"u8));
    }

    [Fact]
    public void ErrorCode_OutOfRangeIsRejectedBothWays()
    {
        var buffer = new byte[64];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.ErrorResponse, TransactionId);
        Assert.False(w.AddErrorCode(299, default));
        Assert.True(w.Failed);

        w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.ErrorResponse, TransactionId);
        Assert.True(w.AddAttribute(StunAttributeType.ErrorCode, [0, 0, 7, 1])); // class 7 does not exist
        Assert.True(StunMessageView.TryRead(w.WrittenSpan, out var m));
        Assert.False(m.TryGetErrorCode(out _, out _));
    }

    [Fact]
    public void MessageIntegritySha256_MatchesAnIndependentHmacSha256()
    {
        var buffer = new byte[128];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddUsername("6soA:xxcb"u8));
        int prefix = w.Length;
        Assert.True(w.AddMessageIntegritySha256(Key));
        Assert.True(w.AddFingerprint());

        // RFC 8489 §14.6: HMAC-SHA256 over the prefix whose header length ends at this attribute.
        byte[] input = buffer[..prefix];
        BinaryPrimitives.WriteUInt16BigEndian(input.AsSpan(2), (ushort)(prefix + 36 - 20));
        byte[] expected = HMACSHA256.HashData(Key, input);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(buffer.AsSpan(prefix + 4, 32)));

        Assert.True(StunMessageView.TryRead(w.WrittenSpan, out var m));
        Assert.True(m.HasMessageIntegritySha256);
        Assert.False(m.HasMessageIntegrity);
        Assert.True(m.VerifyMessageIntegritySha256(Key));
        Assert.False(m.VerifyMessageIntegritySha256("wrong"u8));
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void MessageIntegritySha256_TruncatedTo16BytesVerifies()
    {
        // Built by hand: a 16-byte MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6 allows 16..32).
        var buffer = new byte[128];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddUsername("user"u8));
        int prefix = w.Length;
        byte[] input = buffer[..prefix];
        BinaryPrimitives.WriteUInt16BigEndian(input.AsSpan(2), (ushort)(prefix + 20 - 20));
        byte[] full = HMACSHA256.HashData(Key, input);
        Assert.True(w.AddAttribute(StunAttributeType.MessageIntegritySha256, full.AsSpan(0, 16)));

        Assert.True(StunMessageView.TryRead(w.WrittenSpan, out var m));
        Assert.True(m.VerifyMessageIntegritySha256(Key));
        buffer[prefix + 4 + 15] ^= 1;
        Assert.True(StunMessageView.TryRead(w.WrittenSpan, out m));
        Assert.False(m.VerifyMessageIntegritySha256(Key));
    }

    [Fact]
    public void BothIntegrityAttributesAndFingerprint_AllVerify()
    {
        var buffer = new byte[160];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddUsername("u"u8));
        Assert.True(w.AddMessageIntegrity(Key));
        Assert.True(w.AddMessageIntegritySha256(Key));
        Assert.True(w.AddFingerprint());
        Assert.True(StunMessageView.TryRead(w.WrittenSpan, out var m));
        Assert.True(m.VerifyMessageIntegrity(Key));
        Assert.True(m.VerifyMessageIntegritySha256(Key));
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void AttributesAfterMessageIntegrity_AreIgnored()
    {
        // RFC 8489 §14.5: only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count after MESSAGE-INTEGRITY.
        var buffer = new byte[128];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddUsername("u"u8));
        Assert.True(w.AddMessageIntegrity(Key));
        int length = w.Length;
        // Append PRIORITY, USE-CANDIDATE and an unknown required attribute after it by hand.
        byte[] tail = [0x00, 0x24, 0x00, 0x04, 0, 0, 0, 9, 0x00, 0x25, 0x00, 0x00, 0x7F, 0xF0, 0x00, 0x00];
        tail.CopyTo(buffer, length);
        length += tail.Length;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)(length - 20));

        Assert.True(StunMessageView.TryRead(buffer.AsSpan(0, length), out var m));
        Assert.True(m.VerifyMessageIntegrity(Key));
        Assert.False(m.TryGetPriority(out _));
        Assert.False(m.HasUseCandidate);
        Assert.True(m.TryGetUsername(out _));
        Assert.Equal(0, m.GetUnknownComprehensionRequired(Span<StunAttributeType>.Empty));
    }

    [Fact]
    public void FingerprintNotLast_IsRejected()
    {
        var buffer = new byte[128];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddFingerprint());
        int length = w.Length;
        byte[] tail = [0x00, 0x24, 0x00, 0x04, 0, 0, 0, 9];
        tail.CopyTo(buffer, length);
        length += tail.Length;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)(length - 20));
        Assert.False(StunMessageView.TryRead(buffer.AsSpan(0, length), out _));
    }

    [Fact]
    public void Header_IsValidated()
    {
        var buffer = new byte[64];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddPriority(1));
        byte[] good = w.WrittenSpan.ToArray();
        Assert.True(StunMessageView.TryRead(good, out _));

        byte[] topBits = (byte[])good.Clone();
        topBits[0] |= 0x40; // RFC 8489 §6: the two most significant bits are zero
        Assert.False(StunMessageView.TryRead(topBits, out _));

        byte[] cookie = (byte[])good.Clone();
        cookie[7] ^= 1;
        Assert.False(StunMessageView.TryRead(cookie, out _));

        byte[] notMultipleOf4 = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(notMultipleOf4.AsSpan(2), 6);
        Assert.False(StunMessageView.TryRead(notMultipleOf4.AsSpan(0, 26), out _));

        Assert.False(StunMessageView.TryRead(good.AsSpan(0, good.Length - 4), out _)); // length says more
        Assert.False(StunMessageView.TryRead([.. good, 0, 0, 0, 0], out _)); // trailing bytes
        Assert.False(StunMessageView.TryRead(good.AsSpan(0, 19), out _));

        byte[] headerOnly = good[..20];
        BinaryPrimitives.WriteUInt16BigEndian(headerOnly.AsSpan(2), 0);
        Assert.True(StunMessageView.TryRead(headerOnly, out var empty));
        Assert.False(empty.TryGetPriority(out _));
        Assert.False(empty.VerifyMessageIntegrity(Key));
        Assert.False(empty.VerifyFingerprint());
    }

    [Fact]
    public void AttributeOverrunningTheMessage_IsRejected()
    {
        byte[] m = new byte[28];
        var w = new StunMessageWriter(m, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddPriority(1));
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(22), 5); // value length 5 pads to 8: past the end
        Assert.False(StunMessageView.TryRead(m, out _));
    }

    [Fact]
    public void Writer_FailsWithoutThrowingWhenOutOfRoomOrOutOfOrder()
    {
        var small = new byte[27];
        var w = new StunMessageWriter(small, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.False(w.AddPriority(1)); // needs 28
        Assert.True(w.Failed);
        Assert.False(w.AddFingerprint());

        w = new StunMessageWriter(new byte[10], StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.Failed);
        Assert.Equal(0, w.Length);

        w = new StunMessageWriter(new byte[64], StunMethod.Binding, StunClass.Request, TransactionId.AsSpan(0, 11));
        Assert.True(w.Failed);

        var buffer = new byte[200];
        w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddMessageIntegrity(Key));
        Assert.False(w.AddPriority(1)); // nothing but MI-SHA256/FINGERPRINT after MESSAGE-INTEGRITY
        Assert.True(w.Failed);

        w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddFingerprint());
        Assert.False(w.AddMessageIntegrity(Key)); // FINGERPRINT is last
    }

    [Fact]
    public void LooksLikeStun_SeparatesStunFromDtlsAndRtp()
    {
        var buffer = new byte[20];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(StunMessageView.LooksLikeStun(w.WrittenSpan));
        byte[] dtls = [.. buffer];
        dtls[0] = 22;
        Assert.False(StunMessageView.LooksLikeStun(dtls));
        byte[] rtp = [.. buffer];
        rtp[0] = 0x80;
        Assert.False(StunMessageView.LooksLikeStun(rtp));
    }
}
