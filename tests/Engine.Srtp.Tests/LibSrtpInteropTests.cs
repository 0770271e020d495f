using System.Buffers.Binary;
using Engine.Srtp.Reference;

namespace Engine.Srtp.Tests;

/// <summary>
/// Cross-checks with libsrtp2, the reference C implementation, in the same process: packets
/// protected by one are unprotected by the other, for every profile, SRTP and SRTCP, random sizes
/// 0..1400, random SSRCs, sequence wraps and ROC changes; replays and bit flips fail on both.
/// </summary>
public class LibSrtpInteropTests
{
    public static TheoryData<SrtpProfile> Profiles => new()
    {
        SrtpProfile.Aes128CmHmacSha1_80,
        SrtpProfile.Aes128CmHmacSha1_32,
        SrtpProfile.AeadAes128Gcm,
        SrtpProfile.AeadAes256Gcm,
    };

    private const int PacketsPerSsrc = 400;

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Rtp_OursProtect_LibSrtpUnprotects_ByteIdenticalToLibSrtpProtect(SrtpProfile profile)
    {
        var rng = new Random(1000 + (int)profile);
        byte[] material = TestPackets.KeyingMaterial(rng, profile);
        var (key, salt) = TestPackets.Split(profile, material, client: true);
        using var ours = new SrtpSession(profile, material, isClient: true);
        using var theirSender = new LibSrtp(profile, key, salt, outbound: true);
        using var theirReceiver = new LibSrtp(profile, key, salt, outbound: false);

        int rocChanges = 0, flipsRejected = 0, replaysRejected = 0;
        foreach (var (ssrc, seq, rocChanged) in Schedule(rng))
        {
            rocChanges += rocChanged ? 1 : 0;
            byte[] plain = TestPackets.Rtp(rng, ssrc, seq, rng.Next(1401));
            byte[] mine = TestPackets.WithRoom(plain);
            Assert.Equal(SrtpResult.Ok, ours.ProtectRtp(mine, plain.Length, out int mineLength));
            byte[] theirs = TestPackets.WithRoom(plain, LibSrtp.MaxTrailer);
            Assert.Equal(LibSrtp.Ok, theirSender.ProtectRtp(theirs, plain.Length, out int theirLength));
            Assert.Equal(theirs[..theirLength], mine[..mineLength]);

            if (rng.Next(8) == 0)
            {
                byte[] flipped = FlipOneBit(rng, mine[..mineLength]);
                Assert.NotEqual(LibSrtp.Ok, theirReceiver.UnprotectRtp(flipped, out _));
                flipsRejected++;
            }
            byte[] received = mine[..mineLength];
            Assert.Equal(LibSrtp.Ok, theirReceiver.UnprotectRtp(received, out int plainLength));
            Assert.Equal(plain, received[..plainLength]);
            if (rng.Next(8) == 0)
            {
                Assert.Equal(LibSrtp.ReplayFail, theirReceiver.UnprotectRtp(mine[..mineLength], out _));
                replaysRejected++;
            }
        }
        Assert.True(rocChanges >= 10, $"only {rocChanges} ROC changes");
        Assert.True(flipsRejected > 20 && replaysRejected > 20);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Rtp_LibSrtpProtects_OursUnprotects(SrtpProfile profile)
    {
        var rng = new Random(2000 + (int)profile);
        byte[] material = TestPackets.KeyingMaterial(rng, profile);
        var (key, salt) = TestPackets.Split(profile, material, client: false);
        using var ours = new SrtpSession(profile, material, isClient: true); // receives with the server key
        using var theirSender = new LibSrtp(profile, key, salt, outbound: true);

        int rocChanges = 0;
        foreach (var (ssrc, seq, rocChanged) in Schedule(rng))
        {
            rocChanges += rocChanged ? 1 : 0;
            byte[] plain = TestPackets.Rtp(rng, ssrc, seq, rng.Next(1401));
            byte[] wire = TestPackets.WithRoom(plain, LibSrtp.MaxTrailer);
            Assert.Equal(LibSrtp.Ok, theirSender.ProtectRtp(wire, plain.Length, out int wireLength));

            if (rng.Next(8) == 0)
            {
                int streams = ours.Remote.Streams.Count;
                byte[] flipped = FlipOneBit(rng, wire[..wireLength]);
                Assert.NotEqual(SrtpResult.Ok, ours.UnprotectRtp(flipped, out _));
                Assert.Equal(streams, ours.Remote.Streams.Count); // a forged packet creates no SSRC state
            }
            byte[] received = wire[..wireLength];
            Assert.Equal(SrtpResult.Ok, ours.UnprotectRtp(received, out int plainLength));
            Assert.Equal(plain, received[..plainLength]);
            if (rng.Next(8) == 0)
                Assert.Equal(SrtpResult.Replay, ours.UnprotectRtp(wire[..wireLength], out _));
        }
        Assert.True(rocChanges >= 10);
        Assert.True(ours.Counters.Replayed > 20);
        Assert.True(ours.Counters.AuthFailed + ours.Counters.Malformed + ours.Counters.Replayed + ours.Counters.TooOld > 40);
        Assert.Equal(3 * PacketsPerSsrc, ours.Counters.RtpUnprotected);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Rtcp_BothDirections(SrtpProfile profile)
    {
        var rng = new Random(3000 + (int)profile);
        byte[] material = TestPackets.KeyingMaterial(rng, profile);
        var (clientKey, clientSalt) = TestPackets.Split(profile, material, client: true);
        var (serverKey, serverSalt) = TestPackets.Split(profile, material, client: false);
        using var ours = new SrtpSession(profile, material, isClient: true);
        using var theirReceiver = new LibSrtp(profile, clientKey, clientSalt, outbound: false);
        using var theirSender = new LibSrtp(profile, serverKey, serverSalt, outbound: true);
        uint[] ssrcs = [(uint)rng.Next(), (uint)rng.Next(), (uint)rng.Next()];

        for (int i = 0; i < 600; i++)
        {
            uint ssrc = ssrcs[rng.Next(ssrcs.Length)];
            byte[] plain = TestPackets.Rtcp(rng, ssrc, rng.Next(349));

            // ours -> libsrtp
            byte[] mine = TestPackets.WithRoom(plain);
            Assert.Equal(SrtpResult.Ok, ours.ProtectRtcp(mine, plain.Length, out int mineLength));
            if (rng.Next(8) == 0)
                Assert.NotEqual(LibSrtp.Ok, theirReceiver.UnprotectRtcp(FlipOneBit(rng, mine[..mineLength]), out _));
            byte[] received = mine[..mineLength];
            Assert.Equal(LibSrtp.Ok, theirReceiver.UnprotectRtcp(received, out int plainLength));
            Assert.Equal(plain, received[..plainLength]);
            if (rng.Next(8) == 0)
                Assert.Equal(LibSrtp.ReplayFail, theirReceiver.UnprotectRtcp(mine[..mineLength], out _));

            // libsrtp -> ours
            byte[] wire = TestPackets.WithRoom(plain, LibSrtp.MaxTrailer);
            Assert.Equal(LibSrtp.Ok, theirSender.ProtectRtcp(wire, plain.Length, out int wireLength));
            if (rng.Next(8) == 0)
                Assert.NotEqual(SrtpResult.Ok, ours.UnprotectRtcp(FlipOneBit(rng, wire[..wireLength]), out _));
            byte[] mineReceived = wire[..wireLength];
            Assert.Equal(SrtpResult.Ok, ours.UnprotectRtcp(mineReceived, out int minePlainLength));
            Assert.Equal(plain, mineReceived[..minePlainLength]);
            if (rng.Next(8) == 0)
                Assert.Equal(SrtpResult.Replay, ours.UnprotectRtcp(wire[..wireLength], out _));
        }
        Assert.Equal(600, ours.Counters.RtcpUnprotected);
        Assert.True(ours.Counters.Replayed > 30);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Rtcp_AuthenticatedOnly_FromLibSrtp_IsAccepted(SrtpProfile profile)
    {
        var rng = new Random(5000 + (int)profile);
        byte[] material = TestPackets.KeyingMaterial(rng, profile);
        var (key, salt) = TestPackets.Split(profile, material, client: false);
        using var ours = new SrtpSession(profile, material, isClient: true);
        using var theirSender = new LibSrtp(profile, key, salt, outbound: true, encryptRtcp: false);
        for (int i = 0; i < 200; i++)
        {
            byte[] plain = TestPackets.Rtcp(rng, 0xABCD, rng.Next(100));
            byte[] wire = TestPackets.WithRoom(plain, LibSrtp.MaxTrailer);
            Assert.Equal(LibSrtp.Ok, theirSender.ProtectRtcp(wire, plain.Length, out int wireLength));
            Assert.Equal(plain, wire[..plain.Length]); // sent in the clear
            // RFC 7714 §9.2 puts the E+index word after the tag, RFC 3711 §3.4 before it.
            int wordAt = profile is SrtpProfile.AeadAes128Gcm or SrtpProfile.AeadAes256Gcm ? wireLength - 4 : plain.Length;
            Assert.Equal(0, wire[wordAt] & 0x80); // E flag clear
            Assert.NotEqual(SrtpResult.Ok, ours.UnprotectRtcp(FlipOneBit(rng, wire[..wireLength]), out _));
            byte[] received = wire[..wireLength];
            Assert.Equal(SrtpResult.Ok, ours.UnprotectRtcp(received, out int plainLength));
            Assert.Equal(plain, received[..plainLength]);
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Rtp_LateAndTooOldPackets_AgreeWithLibSrtp(SrtpProfile profile)
    {
        var rng = new Random(4000 + (int)profile);
        byte[] material = TestPackets.KeyingMaterial(rng, profile);
        var (key, salt) = TestPackets.Split(profile, material, client: false);
        using var ours = new SrtpSession(profile, material, isClient: true);
        using var theirSender = new LibSrtp(profile, key, salt, outbound: true);
        using var theirReceiver = new LibSrtp(profile, key, salt, outbound: false);
        uint ssrc = (uint)rng.Next();

        // 300 packets across a sequence wrap; deliver in order except the held-back ones.
        var wire = new List<byte[]>();
        for (int i = 0; i < 300; i++)
        {
            byte[] plain = TestPackets.Rtp(rng, ssrc, (ushort)(65400 + i), 20 + rng.Next(200));
            byte[] buffer = TestPackets.WithRoom(plain, LibSrtp.MaxTrailer);
            Assert.Equal(LibSrtp.Ok, theirSender.ProtectRtp(buffer, plain.Length, out int length));
            wire.Add(buffer[..length]);
        }
        int[] late = [120, 130, 140]; // held back, delivered after 249: 129, 119 and 109 behind
        for (int i = 0; i < 250; i++)
        {
            if (late.Contains(i)) continue;
            Assert.Equal(SrtpResult.Ok, ours.UnprotectRtp(wire[i].ToArray(), out _));
            Assert.Equal(LibSrtp.Ok, theirReceiver.UnprotectRtp(wire[i].ToArray(), out _));
        }
        // A 128-packet window: 129 behind is too old, 119 and 109 behind are accepted once.
        Assert.Equal(SrtpResult.TooOld, ours.UnprotectRtp(wire[120].ToArray(), out _));
        Assert.Equal(LibSrtp.ReplayOld, theirReceiver.UnprotectRtp(wire[120].ToArray(), out _));
        foreach (int i in new[] { 130, 140 })
        {
            Assert.Equal(SrtpResult.Ok, ours.UnprotectRtp(wire[i].ToArray(), out _));
            Assert.Equal(LibSrtp.Ok, theirReceiver.UnprotectRtp(wire[i].ToArray(), out _));
            Assert.Equal(SrtpResult.Replay, ours.UnprotectRtp(wire[i].ToArray(), out _));
            Assert.Equal(LibSrtp.ReplayFail, theirReceiver.UnprotectRtp(wire[i].ToArray(), out _));
        }
        for (int i = 250; i < 300; i++) Assert.Equal(SrtpResult.Ok, ours.UnprotectRtp(wire[i].ToArray(), out _));
        Assert.Equal(1, ours.Counters.TooOld);
        Assert.Equal(2, ours.Counters.Replayed);
    }

    /// <summary>
    /// Three SSRCs, <see cref="PacketsPerSsrc"/> packets each, interleaved. One starts just below the
    /// wrap; steps are mostly 1 with jumps of up to 30000 (under 2^15, so both ends keep the same
    /// ROC estimate) so that the ROC changes many times.
    /// </summary>
    private static IEnumerable<(uint Ssrc, ushort Seq, bool RocChanged)> Schedule(Random rng)
    {
        uint[] ssrcs = [(uint)rng.Next(), (uint)rng.Next() | 0x8000_0000, (uint)rng.Next()];
        int[] seqs = [65535 - rng.Next(20), rng.Next(65536), rng.Next(30000)];
        int[] sent = new int[3];
        var first = new bool[3];
        for (int n = 0; n < 3 * PacketsPerSsrc; n++)
        {
            int s;
            do s = rng.Next(3); while (sent[s] == PacketsPerSsrc);
            bool rocChanged = false;
            if (first[s])
            {
                int step = rng.Next(10) == 0 ? rng.Next(1, 30000) : 1;
                rocChanged = seqs[s] + step > 65535;
                seqs[s] = (seqs[s] + step) & 0xFFFF;
            }
            first[s] = true;
            sent[s]++;
            yield return (ssrcs[s], (ushort)seqs[s], rocChanged);
        }
    }

    private static byte[] FlipOneBit(Random rng, byte[] packet)
    {
        byte[] copy = (byte[])packet.Clone();
        int bit = rng.Next(copy.Length * 8);
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }
}
