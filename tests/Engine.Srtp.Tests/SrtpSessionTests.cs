using System.Buffers.Binary;

namespace Engine.Srtp.Tests;

public class SrtpSessionTests
{
    public static TheoryData<SrtpProfile> Profiles => LibSrtpInteropTests.Profiles;

    private static (SrtpSession Client, SrtpSession Server) Pair(SrtpProfile profile, int seed, bool accelerated = true)
    {
        byte[] material = TestPackets.KeyingMaterial(new Random(seed), profile);
        return (new SrtpSession(profile, material, true, accelerated), new SrtpSession(profile, material, false, accelerated));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void ClientToServerAndBack_RoundTrips(SrtpProfile profile)
    {
        var (client, server) = Pair(profile, 1);
        using var clientScope = client;
        using var serverScope = server;
        var rng = new Random(2);
        for (int i = 0; i < 200; i++)
        {
            byte[] plain = TestPackets.Rtp(rng, 0x1234, (ushort)i, 16 + rng.Next(1300));
            byte[] buffer = TestPackets.WithRoom(plain, client.RtpOverhead);
            Assert.Equal(SrtpResult.Ok, client.ProtectRtp(buffer, plain.Length, out int length));
            Assert.Equal(plain.Length + client.RtpOverhead, length);
            Assert.False(buffer.AsSpan(0, plain.Length).SequenceEqual(plain)); // the payload is encrypted
            Assert.Equal(SrtpResult.Ok, server.UnprotectRtp(buffer.AsSpan(0, length), out int plainLength));
            Assert.Equal(plain, buffer[..plainLength]);

            byte[] rtcp = TestPackets.Rtcp(rng, 0x5678, rng.Next(20));
            byte[] rtcpBuffer = TestPackets.WithRoom(rtcp, server.RtcpOverhead);
            Assert.Equal(SrtpResult.Ok, server.ProtectRtcp(rtcpBuffer, rtcp.Length, out int rtcpLength));
            Assert.Equal(SrtpResult.Ok, client.UnprotectRtcp(rtcpBuffer.AsSpan(0, rtcpLength), out int rtcpPlain));
            Assert.Equal(rtcp, rtcpBuffer[..rtcpPlain]);
        }
        // The server's own direction uses other keys: its packet does not verify with its receive key.
        byte[] own = TestPackets.WithRoom(TestPackets.Rtp(rng, 1, 1, 100), 16);
        Assert.Equal(SrtpResult.Ok, server.ProtectRtp(own, own.Length - 16, out int ownLength));
        Assert.Equal(SrtpResult.AuthFailed, server.UnprotectRtp(own.AsSpan(0, ownLength), out _));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void PortableFallback_IsByteIdenticalToAccelerated(SrtpProfile profile)
    {
        byte[] material = TestPackets.KeyingMaterial(new Random(3), profile);
        using var fast = new SrtpSession(profile, material, isClient: true, accelerated: true);
        using var portable = new SrtpSession(profile, material, isClient: true, accelerated: false);
        using var receiver = new SrtpSession(profile, material, isClient: false, accelerated: false);
        var rng = new Random(4);
        for (int i = 0; i < 60; i++)
        {
            byte[] plain = TestPackets.Rtp(rng, 99, (ushort)(65500 + i), rng.Next(1400));
            byte[] a = TestPackets.WithRoom(plain), b = TestPackets.WithRoom(plain);
            Assert.Equal(SrtpResult.Ok, fast.ProtectRtp(a, plain.Length, out int la));
            Assert.Equal(SrtpResult.Ok, portable.ProtectRtp(b, plain.Length, out int lb));
            Assert.Equal(a[..la], b[..lb]);
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(b.AsSpan(0, lb), out int plainLength));
            Assert.Equal(plain, b[..plainLength]);

            byte[] rtcp = TestPackets.Rtcp(rng, 99, rng.Next(40));
            a = TestPackets.WithRoom(rtcp); b = TestPackets.WithRoom(rtcp);
            Assert.Equal(SrtpResult.Ok, fast.ProtectRtcp(a, rtcp.Length, out la));
            Assert.Equal(SrtpResult.Ok, portable.ProtectRtcp(b, rtcp.Length, out lb));
            Assert.Equal(a[..la], b[..lb]);
        }
    }

    [Fact]
    public void ReplayWindow_AcceptsReorderWithin128_RejectsReplaysAndOlder()
    {
        var (client, server) = Pair(SrtpProfile.Aes128CmHmacSha1_80, 5);
        var rng = new Random(6);
        var wire = new byte[400][];
        for (int i = 0; i < wire.Length; i++)
        {
            byte[] plain = TestPackets.Rtp(rng, 7, (ushort)(65300 + i), 50);
            byte[] buffer = TestPackets.WithRoom(plain, 10);
            Assert.Equal(SrtpResult.Ok, client.ProtectRtp(buffer, plain.Length, out int length));
            wire[i] = buffer[..length];
        }
        // The receiver learns s_l (and ROC 0) from the first packet, RFC 3711 §3.3.1.
        Assert.Equal(SrtpResult.Ok, server.UnprotectRtp(wire[0].ToArray(), out _));
        Assert.Equal(SrtpResult.Ok, server.UnprotectRtp(wire[300].ToArray(), out _));
        // Descending from 299: 1..127 behind are fresh, 128 and more are too old.
        for (int i = 299; i >= 173; i--) Assert.Equal(SrtpResult.Ok, server.UnprotectRtp(wire[i].ToArray(), out _));
        Assert.Equal(SrtpResult.TooOld, server.UnprotectRtp(wire[172].ToArray(), out _));
        Assert.Equal(SrtpResult.TooOld, server.UnprotectRtp(wire[0].ToArray(), out _));
        for (int i = 173; i <= 300; i += 7) Assert.Equal(SrtpResult.Replay, server.UnprotectRtp(wire[i].ToArray(), out _));
        // The sequence number wrapped at i = 236, inside the reordered range; the ROC follows on.
        for (int i = 301; i < 400; i++) Assert.Equal(SrtpResult.Ok, server.UnprotectRtp(wire[i].ToArray(), out _));
        Assert.Equal(2, server.Counters.TooOld);
        Assert.Equal(19, server.Counters.Replayed);
        Assert.Equal(1 + 128 + 99, server.Counters.RtpUnprotected);
    }

    [Fact]
    public void FailedAuthentication_CreatesNoState_AndDoesNotBlockTheGenuinePacket()
    {
        var (client, server) = Pair(SrtpProfile.AeadAes128Gcm, 7);
        byte[] plain = TestPackets.Rtp(new Random(8), 42, 1000, 100);
        byte[] buffer = TestPackets.WithRoom(plain, 16);
        Assert.Equal(SrtpResult.Ok, client.ProtectRtp(buffer, plain.Length, out int length));
        byte[] forged = buffer[..length];
        forged[^3] ^= 4;
        Assert.Equal(SrtpResult.AuthFailed, server.UnprotectRtp(forged, out _));
        Assert.Equal(0, server.Remote.Streams.Count);
        Assert.Equal(SrtpResult.Ok, server.UnprotectRtp(buffer.AsSpan(0, length), out _));
        Assert.Equal(1, server.Remote.Streams.Count);
        Assert.Equal(1, server.Counters.AuthFailed);
    }

    [Fact]
    public void SsrcTable_IsCapped_AndRemovalFreesASlot()
    {
        var (client, server) = Pair(SrtpProfile.Aes128CmHmacSha1_80, 9);
        var rng = new Random(10);
        byte[] Wire(uint ssrc, ushort seq)
        {
            byte[] plain = TestPackets.Rtp(rng, ssrc, seq, 20);
            byte[] buffer = TestPackets.WithRoom(plain, 10);
            Assert.Equal(SrtpResult.Ok, client.ProtectRtp(buffer, plain.Length, out int length));
            return buffer[..length];
        }
        var first = new List<byte[]>();
        for (uint s = 0; s < SrtpSession.MaxSsrcs; s++)
        {
            first.Add(Wire(s * 1000, 1));
            Assert.Equal(SrtpResult.Ok, server.UnprotectRtp(first[^1].ToArray(), out _));
        }
        byte[] sixtyFifth = TestPackets.Rtp(rng, 777_777, 1, 20);
        Assert.Equal(SrtpResult.TooManySsrcs, client.ProtectRtp(TestPackets.WithRoom(sixtyFifth, 10), sixtyFifth.Length, out _));
        Assert.True(client.RemoveLocalSsrc(0));
        byte[] extra = Wire(777_777, 1);
        Assert.Equal(SrtpResult.TooManySsrcs, server.UnprotectRtp(extra.ToArray(), out _));
        Assert.Equal(1, server.Counters.TooManySsrcs);

        Assert.True(server.RemoveRemoteSsrc(5000));
        Assert.False(server.RemoveRemoteSsrc(5000));
        Assert.Equal(SrtpResult.Ok, server.UnprotectRtp(extra, out _));
        // Every other stream kept its state through the removal's rehash: its old packets are replays.
        for (int s = 0; s < SrtpSession.MaxSsrcs; s++)
        {
            if (s == 5) continue;
            Assert.Equal(SrtpResult.Replay, server.UnprotectRtp(first[s].ToArray(), out _));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void MalformedAndShortInput_IsRejectedAndCounted_NeverThrows(SrtpProfile profile)
    {
        var (client, server) = Pair(profile, 11);
        byte[] tiny = new byte[5];
        Assert.Equal(SrtpResult.Malformed, server.UnprotectRtp(tiny, out _));
        Assert.Equal(SrtpResult.Malformed, server.UnprotectRtcp(tiny, out _));
        byte[] version1 = TestPackets.Rtp(new Random(1), 1, 1, 40);
        version1[0] = 0x40;
        Assert.Equal(SrtpResult.Malformed, server.UnprotectRtp(version1, out _));
        Assert.Equal(SrtpResult.Malformed, client.ProtectRtp(TestPackets.WithRoom(version1), version1.Length, out _));
        byte[] longExtension = TestPackets.Rtp(new Random(1), 1, 1, 40);
        longExtension[0] = 0x90;
        BinaryPrimitives.WriteUInt16BigEndian(longExtension.AsSpan(14), 200); // 800 bytes of extension in a 52-byte packet
        Assert.Equal(SrtpResult.Malformed, server.UnprotectRtp(longExtension, out _));
        byte[] noRoom = TestPackets.Rtp(new Random(1), 1, 1, 40);
        Assert.Equal(SrtpResult.BufferTooSmall, client.ProtectRtp(noRoom, noRoom.Length, out _));
        Assert.Equal(SrtpResult.BufferTooSmall, client.ProtectRtcp(noRoom, noRoom.Length, out _));
        Assert.Equal(SrtpResult.Malformed, client.ProtectRtp(noRoom, noRoom.Length + 1, out _));
        Assert.Equal(SrtpResult.Malformed, client.ProtectRtp(noRoom, -1, out _));

        var rng = new Random(12);
        for (int i = 0; i < 5000; i++)
        {
            byte[] junk = new byte[rng.Next(0, 200)];
            rng.NextBytes(junk);
            Assert.NotEqual(SrtpResult.Ok, server.UnprotectRtp(junk, out _));
            rng.NextBytes(junk);
            Assert.NotEqual(SrtpResult.Ok, server.UnprotectRtcp(junk, out _));
        }
        Assert.Equal(0, server.Counters.RtpUnprotected + server.Counters.RtcpUnprotected);
        Assert.Equal(10_000 + 4, server.Counters.Malformed + server.Counters.AuthFailed + server.Counters.TooManySsrcs);
    }

    [Fact]
    public void KeyingMaterial_OfTheWrongLength_IsAStartUpError()
    {
        Assert.Throws<ArgumentException>(() => new SrtpSession(SrtpProfile.AeadAes128Gcm, new byte[60], true));
        Assert.Equal(60, SrtpSession.KeyingMaterialLength(SrtpProfile.Aes128CmHmacSha1_80));
        Assert.Equal(56, SrtpSession.KeyingMaterialLength(SrtpProfile.AeadAes128Gcm));
        Assert.Equal(88, SrtpSession.KeyingMaterialLength(SrtpProfile.AeadAes256Gcm));
    }
}
