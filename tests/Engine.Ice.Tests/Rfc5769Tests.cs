using System.Net;
using System.Text;
using Engine.Ice;

namespace Engine.Ice.Tests;

/// <summary>The test vectors of RFC 5769 §2, byte for byte, parsed, verified and rebuilt.</summary>
public class Rfc5769Tests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(string.Concat(hex.Where(Uri.IsHexDigit)));

    private static readonly byte[] TransactionId = Hex("b7e7a701 bc34d686 fa87dfae");

    // RFC 5769 §2.1 Sample Request (short-term credential), password "VOkJxbRl1RmTxUk/WvJxBt".
    internal static readonly byte[] SampleRequest = Hex("""
        00 01 00 58  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
        80 22 00 10  53 54 55 4e  20 74 65 73  74 20 63 6c  69 65 6e 74
        00 24 00 04  6e 00 01 ff
        80 29 00 08  93 2f f9 b1  51 26 3b 36
        00 06 00 09  65 76 74 6a  3a 68 36 76  59 20 20 20
        00 08 00 14  9a ea a7 0c  bf d8 cb 56  78 1e f2 b5  b2 d3 f2 49  c1 b5 71 a2
        80 28 00 04  e5 7a 3b cf
        """);

    // RFC 5769 §2.2 Sample IPv4 Response: 192.0.2.1 port 32853.
    private static readonly byte[] Ipv4Response = Hex("""
        01 01 00 3c  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
        80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
        00 20 00 08  00 01 a1 47  e1 12 a6 43
        00 08 00 14  2b 91 f5 99  fd 9e 90 c3  8c 74 89 f9  2a f9 ba 53  f0 6b e7 d7
        80 28 00 04  c0 7d 4c 96
        """);

    // RFC 5769 §2.3 Sample IPv6 Response: 2001:db8:1234:5678:11:2233:4455:6677 port 32853.
    private static readonly byte[] Ipv6Response = Hex("""
        01 01 00 48  21 12 a4 42  b7 e7 a7 01  bc 34 d6 86  fa 87 df ae
        80 22 00 0b  74 65 73 74  20 76 65 63  74 6f 72 20
        00 20 00 14  00 02 a1 47  01 13 a9 fa  a5 d3 f1 79  bc 25 f4 b5  be d2 b9 d9
        00 08 00 14  a3 82 95 4e  4b e6 7b f1  17 84 c9 7c  82 92 c2 75  bf e3 ed 41
        80 28 00 04  c8 fb 0b 4c
        """);

    // RFC 5769 §2.4 Sample Request with Long-Term Authentication: username U+30DE U+30C8 U+30EA
    // U+30C3 U+30AF U+30B9, realm "example.org", nonce "f//499k954d6OL34oL9FSTvy64sA",
    // password "The<U+00AD>M<U+00AA>tr<U+2168>", which SASLprep turns into "TheMatrIX".
    private static readonly byte[] LongTermRequest = Hex("""
        00 01 00 60  21 12 a4 42  78 ad 34 33  c6 ad 72 c0  29 da 41 2e
        00 06 00 12  e3 83 9e e3  83 88 e3 83  aa e3 83 83  e3 82 af e3  82 b9 00 00
        00 15 00 1c  66 2f 2f 34  39 39 6b 39  35 34 64 36  4f 4c 33 34  6f 4c 39 46  53 54 76 79  36 34 73 41
        00 14 00 0b  65 78 61 6d  70 6c 65 2e  6f 72 67 00
        00 08 00 14  f6 70 24 65  6d d6 4a 3e  02 b8 e0 71  2e 85 c9 a2  8c a8 96 66
        """);

    private static readonly byte[] ShortTermKey = Encoding.ASCII.GetBytes("VOkJxbRl1RmTxUk/WvJxBt");

    private const string LongTermUsername = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9";

    [Fact]
    public void Section2_1_SampleRequest_ParsesAndVerifies()
    {
        Assert.True(StunMessageView.TryRead(SampleRequest, out var m));
        Assert.Equal(StunMethod.Binding, m.Method);
        Assert.Equal(StunClass.Request, m.Class);
        Assert.True(m.TransactionId.SequenceEqual(TransactionId));
        Assert.True(m.TryGetSoftware(out var software));
        Assert.Equal("STUN test client", Encoding.UTF8.GetString(software));
        Assert.True(m.TryGetPriority(out uint priority));
        Assert.Equal(0x6e0001ffu, priority);
        Assert.True(m.TryGetIceControlled(out ulong tieBreaker));
        Assert.Equal(0x932ff9b151263b36ul, tieBreaker);
        Assert.True(m.TryGetUsername(out var username));
        Assert.Equal("evtj:h6vY", Encoding.UTF8.GetString(username));
        Assert.True(m.VerifyMessageIntegrity(ShortTermKey));
        Assert.True(m.VerifyFingerprint());
        Assert.False(m.VerifyMessageIntegrity(Encoding.ASCII.GetBytes("VOkJxbRl1RmTxUk/WvJxBu")));
        Assert.False(m.HasMessageIntegritySha256);
        Assert.False(m.VerifyMessageIntegritySha256(ShortTermKey));
    }

    [Fact]
    public void Section2_1_SampleRequest_RebuiltByteForByte()
    {
        var buffer = new byte[200];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, TransactionId);
        Assert.True(w.AddText(StunAttributeType.Software, "STUN test client"));
        Assert.True(w.AddPriority(0x6e0001ff));
        Assert.True(w.AddIceControlled(0x932ff9b151263b36));
        Assert.True(w.AddUsername("evtj:h6vY"u8));
        // RFC 5769 pads with spaces where RFC 8489 writes zeros; copy its padding so the HMAC matches.
        "   "u8.CopyTo(buffer.AsSpan(w.Length - 3));
        Assert.True(w.AddMessageIntegrity(ShortTermKey));
        Assert.True(w.AddFingerprint());
        Assert.Equal(Convert.ToHexString(SampleRequest), Convert.ToHexString(w.WrittenSpan));
    }

    [Fact]
    public void Section2_2_Ipv4Response_ParsesAndVerifies()
    {
        Assert.True(StunMessageView.TryRead(Ipv4Response, out var m));
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.Equal(StunMethod.Binding, m.Method);
        Assert.True(m.TryGetSoftware(out var software));
        Assert.Equal("test vector", Encoding.UTF8.GetString(software));
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), mapped.ToIPEndPoint());
        Assert.True(m.VerifyMessageIntegrity(ShortTermKey));
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void Section2_2_Ipv4Response_RebuiltByteForByte() =>
        AssertResponseRebuilt(Ipv4Response, "192.0.2.1");

    [Fact]
    public void Section2_3_Ipv6Response_ParsesAndVerifies()
    {
        Assert.True(StunMessageView.TryRead(Ipv6Response, out var m));
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        Assert.True(mapped.IsIPv6);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853), mapped.ToIPEndPoint());
        Assert.True(m.VerifyMessageIntegrity(ShortTermKey));
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void Section2_3_Ipv6Response_RebuiltByteForByte() =>
        AssertResponseRebuilt(Ipv6Response, "2001:db8:1234:5678:11:2233:4455:6677");

    private static void AssertResponseRebuilt(byte[] expected, string ip)
    {
        var buffer = new byte[200];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.SuccessResponse, TransactionId);
        Assert.True(w.AddText(StunAttributeType.Software, "test vector"));
        buffer[w.Length - 1] = 0x20; // the RFC's space padding, as above
        Assert.True(w.AddXorMappedAddress(NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(ip), 32853))));
        Assert.True(w.AddMessageIntegrity(ShortTermKey));
        Assert.True(w.AddFingerprint());
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(w.WrittenSpan));
    }

    [Fact]
    public void Section2_4_LongTermRequest_VerifiesWithMd5Key()
    {
        Assert.True(StunMessageView.TryRead(LongTermRequest, out var m));
        Assert.True(m.TryGetUsername(out var username));
        Assert.Equal(LongTermUsername, Encoding.UTF8.GetString(username));
        Assert.True(m.TryGetNonce(out var nonce));
        Assert.Equal("f//499k954d6OL34oL9FSTvy64sA", Encoding.UTF8.GetString(nonce));
        Assert.True(m.TryGetRealm(out var realm));
        Assert.Equal("example.org", Encoding.UTF8.GetString(realm));
        Assert.False(m.HasFingerprint);
        Assert.False(m.VerifyFingerprint());

        Span<byte> key = stackalloc byte[16];
        Assert.True(StunLongTermCredential.TryComputeKey(LongTermUsername, "example.org", "TheMatrIX", key));
        Assert.Equal(Convert.ToHexString(MD5Of(LongTermUsername + ":example.org:TheMatrIX")), Convert.ToHexString(key));
        Assert.True(m.VerifyMessageIntegrity(key));

        Assert.True(StunLongTermCredential.TryComputeKey(LongTermUsername, "example.org", "TheMatrix", key));
        Assert.False(m.VerifyMessageIntegrity(key));
    }

    [Fact]
    public void Section2_4_LongTermRequest_RebuiltByteForByte()
    {
        var key = new byte[16];
        Assert.True(StunLongTermCredential.TryComputeKey(LongTermUsername, "example.org", "TheMatrIX", key));
        var buffer = new byte[200];
        var w = new StunMessageWriter(buffer, StunMethod.Binding, StunClass.Request, Hex("78ad3433 c6ad72c0 29da412e"));
        Assert.True(w.AddText(StunAttributeType.Username, LongTermUsername));
        Assert.True(w.AddText(StunAttributeType.Nonce, "f//499k954d6OL34oL9FSTvy64sA"));
        Assert.True(w.AddText(StunAttributeType.Realm, "example.org"));
        Assert.True(w.AddMessageIntegrity(key));
        Assert.Equal(Convert.ToHexString(LongTermRequest), Convert.ToHexString(w.WrittenSpan));
    }

    private static byte[] MD5Of(string s) => System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes(s));
}
