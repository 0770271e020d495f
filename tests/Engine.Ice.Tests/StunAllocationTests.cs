using System.Net;
using System.Text;
using Engine.Ice;

namespace Engine.Ice.Tests;

/// <summary>The per-packet paths allocate nothing once warm (ARCHITECTURE.md rule 6).</summary>
public class StunAllocationTests
{
    private static readonly byte[] Password = Encoding.ASCII.GetBytes("n/2TSotsQp3jMAJGDUiT+yQa");

    private static int VerifyAndAnswer(byte[] request, byte[] response, in StunMessageIntegrityKey key, in NetAddress from)
    {
        if (!StunMessageView.TryRead(request, out var m) || !m.VerifyFingerprint() || !m.VerifyMessageIntegrity(key)
            || !m.TryGetUsername(out _) || !m.TryGetPriority(out _))
            return 0;
        _ = m.HasUseCandidate;
        _ = m.TryGetIceControlling(out _);
        var w = new StunMessageWriter(response, StunMethod.Binding, StunClass.SuccessResponse, m.TransactionId);
        w.AddXorMappedAddress(from);
        w.AddMessageIntegrity(key);
        w.AddFingerprint();
        return w.Length;
    }

    [Fact]
    public void ParseVerifyAndAnswerChromiumRequests_AllocateNothing()
    {
        var requests = ChromiumCaptureTests.StunDatagrams()
            .Where(d => StunMessageView.TryRead(d.Payload, out var m) && m.Class == StunClass.Request
                && m.TryGetUsername(out var u) && u.StartsWith("xxcb:"u8))
            .Select(d => d.Payload).ToArray();
        Assert.NotEmpty(requests);
        var key = StunMessageIntegrityKey.Create(Password);
        var from = NetAddress.FromIPEndPoint(IPEndPoint.Parse("[fd00::2]:59720"));
        var response = new byte[1500];
        int total = VerifyAndAnswer(requests[0], response, key, from); // warm up

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 2000; i++)
            total += VerifyAndAnswer(requests[i % requests.Length], response, key, from);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(total > 2000 * 20); // every one verified and was answered
    }

    [Fact]
    public void RawKeyAndSha256Paths_AllocateNothingOnceWarm()
    {
        var buffer = new byte[256];
        var txid = new byte[12];
        var peer = NetAddress.FromIPEndPoint(IPEndPoint.Parse("203.0.113.9:50000"));
        int Run()
        {
            var w = new StunMessageWriter(buffer, StunMethod.Allocate, StunClass.Request, txid);
            w.AddUsername("alice"u8);
            w.AddText(StunAttributeType.Realm, "example.org");
            w.AddRequestedTransport(17);
            w.AddLifetime(600);
            w.AddXorPeerAddress(peer);
            w.AddErrorCode(StunErrorCode.StaleNonce, "Stale Nonce"u8);
            w.AddMessageIntegrity(Password);
            w.AddMessageIntegritySha256(Password);
            w.AddFingerprint();
            if (!StunMessageView.TryRead(w.WrittenSpan, out var m))
                return 0;
            Span<StunAttributeType> unknown = stackalloc StunAttributeType[4];
            int ok = m.VerifyMessageIntegrity(Password) && m.VerifyMessageIntegritySha256(Password) && m.VerifyFingerprint()
                && m.TryGetXorPeerAddress(out var p) && p == peer && m.TryGetErrorCode(out _, out _)
                && m.GetUnknownComprehensionRequired(unknown) == 0 ? 1 : 0;
            return ok;
        }
        Assert.Equal(1, Run()); // warm up: creates the thread's SHA-256 hasher once

        long before = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < 500; i++)
            sum += Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(500, sum);
    }
}
