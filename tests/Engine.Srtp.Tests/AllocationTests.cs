namespace Engine.Srtp.Tests;

/// <summary>Per-packet paths allocate nothing, on success and on every rejection.</summary>
public class AllocationTests
{
    private const int Iterations = 2000;

    [Theory]
    [MemberData(nameof(SrtpSessionTests.Profiles), MemberType = typeof(SrtpSessionTests))]
    public void ProtectAndUnprotect_AllocateNothing(SrtpProfile profile)
    {
        byte[] material = TestPackets.KeyingMaterial(new Random(1), profile);
        using var sender = new SrtpSession(profile, material, isClient: true);
        using var receiver = new SrtpSession(profile, material, isClient: false);
        byte[] rtp = TestPackets.Rtp(new Random(2), 0xCAFE, 0, 1200);
        byte[] rtcp = TestPackets.Rtcp(new Random(3), 0xCAFE, 20);
        byte[] buffer = new byte[1500];
        ushort seq = 0;

        void OneOfEach()
        {
            rtp.CopyTo(buffer, 0);
            buffer[2] = (byte)(seq >> 8);
            buffer[3] = (byte)seq++;
            Check(sender.ProtectRtp(buffer, rtp.Length, out int length));
            Check(receiver.UnprotectRtp(buffer.AsSpan(0, length), out _));
            rtcp.CopyTo(buffer, 0);
            Check(sender.ProtectRtcp(buffer, rtcp.Length, out length));
            Check(receiver.UnprotectRtcp(buffer.AsSpan(0, length), out _));
        }

        OneOfEach(); // warm up: JIT, tiering, first-use state
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Iterations; i++) OneOfEach();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(Iterations + 1, receiver.Counters.RtpUnprotected);
        Assert.Equal(Iterations + 1, receiver.Counters.RtcpUnprotected);
    }

    [Theory]
    [MemberData(nameof(SrtpSessionTests.Profiles), MemberType = typeof(SrtpSessionTests))]
    public void Rejections_AllocateNothing(SrtpProfile profile)
    {
        byte[] material = TestPackets.KeyingMaterial(new Random(4), profile);
        using var sender = new SrtpSession(profile, material, isClient: true);
        using var receiver = new SrtpSession(profile, material, isClient: false);
        byte[] rtp = TestPackets.Rtp(new Random(5), 0xBEEF, 7, 160);
        byte[] wire = new byte[rtp.Length + 16];
        rtp.CopyTo(wire, 0);
        Check(sender.ProtectRtp(wire, rtp.Length, out int length));
        byte[] replay = new byte[length];
        byte[] fresh = new byte[rtp.Length + 16];
        rtp.CopyTo(fresh, 0);
        fresh[3]++; // the next sequence number, never delivered: a forgery of it fails authentication
        Check(sender.ProtectRtp(fresh, rtp.Length, out int freshLength));
        byte[] forged = new byte[freshLength];
        byte[] junk = new byte[7];

        void Rejects()
        {
            wire.AsSpan(0, length).CopyTo(replay);
            Reject(receiver.UnprotectRtp(replay, out _));
            fresh.AsSpan(0, freshLength).CopyTo(forged);
            forged[freshLength - 1] ^= 1;
            Reject(receiver.UnprotectRtp(forged, out _));
            Reject(receiver.UnprotectRtp(junk, out _));
            Reject(receiver.UnprotectRtcp(junk, out _));
        }

        wire.AsSpan(0, length).CopyTo(replay);
        Check(receiver.UnprotectRtp(replay, out _));
        Rejects();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Iterations; i++) Rejects();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(Iterations + 1, receiver.Counters.Replayed);
        Assert.Equal(Iterations + 1, receiver.Counters.AuthFailed);
    }

    // Assert.Equal on an enum boxes; these keep the measured loop allocation-free.
    private static void Check(SrtpResult result)
    {
        if (result != SrtpResult.Ok) throw new Xunit.Sdk.XunitException($"expected Ok, got {result}");
    }

    private static void Reject(SrtpResult result)
    {
        if (result == SrtpResult.Ok) throw new Xunit.Sdk.XunitException("expected a rejection");
    }
}
