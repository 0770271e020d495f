using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Engine.Ice;

namespace Engine.Ice.Tests;

public class IceLiteAgentTests
{
    private const string LocalUfrag = "lite", LocalPwd = "litepasswordlitepassword", RemoteUfrag = "brws";
    private static readonly NetAddress A = NetAddress.FromIPEndPoint(IPEndPoint.Parse("127.0.0.1:40000"));
    private static readonly NetAddress B = NetAddress.FromIPEndPoint(IPEndPoint.Parse("[::1]:40002"));

    private static byte[] Check(string username = LocalUfrag + ":" + RemoteUfrag, string pwd = LocalPwd, bool useCandidate = false,
        bool controlled = false, ushort extraAttribute = 0, bool fingerprint = true)
    {
        var buf = new byte[512];
        var tid = new byte[12];
        Random.Shared.NextBytes(tid);
        var w = new StunMessageWriter(buf, StunMethod.Binding, StunClass.Request, tid);
        w.AddUsername(Encoding.UTF8.GetBytes(username));
        w.AddPriority(1845501695);
        if (controlled) w.AddIceControlled(7); else w.AddIceControlling(7);
        if (useCandidate) w.AddUseCandidate();
        if (extraAttribute != 0) w.AddAttribute((StunAttributeType)extraAttribute, new byte[4]);
        w.AddMessageIntegrity(Encoding.UTF8.GetBytes(pwd));
        if (fingerprint) w.AddFingerprint();
        Assert.False(w.Failed);
        return buf[..w.Length];
    }

    private static IceCheckResult Handle(IceLiteAgent agent, byte[] datagram, NetAddress from, long now, out byte[] response)
    {
        var buf = new byte[512];
        var r = agent.HandleStun(datagram, from, now, buf, out int n);
        response = buf[..n];
        return r;
    }

    [Fact]
    public void AValidCheckIsAnsweredWithTheMappedAddressAndOurIntegrity()
    {
        var agent = new IceLiteAgent(LocalUfrag, LocalPwd, RemoteUfrag, 0);
        Assert.Equal(IceCheckResult.Answered, Handle(agent, Check(), A, 1000, out var response));
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(A, mapped);
        Assert.True(m.VerifyMessageIntegrity(Encoding.UTF8.GetBytes(LocalPwd)));
        Assert.True(m.VerifyFingerprint());
        Assert.Equal(A, agent.Selected);
        Assert.False(agent.Nominated);
    }

    [Fact]
    public void NominationMovesTheSelectedPath()
    {
        var agent = new IceLiteAgent(LocalUfrag, LocalPwd, RemoteUfrag, 0);
        Handle(agent, Check(), A, 0, out _);
        Handle(agent, Check(), B, 0, out _); // a valid check on another path does not move media
        Assert.Equal(A, agent.Selected);
        Handle(agent, Check(useCandidate: true), B, 0, out _);
        Assert.Equal(B, agent.Selected);
        Assert.True(agent.Nominated);
        Handle(agent, Check(useCandidate: true), A, 0, out _); // a newer nomination wins
        Assert.Equal(A, agent.Selected);
        Assert.Equal(2, agent.Counters.PathSwitches);
    }

    [Fact]
    public void ConsentExpiresWithoutChecksFromTheSelectedPath()
    {
        var agent = new IceLiteAgent(LocalUfrag, LocalPwd, RemoteUfrag, 0, consentTimeoutMicros: 30_000_000);
        Handle(agent, Check(useCandidate: true), A, 1_000_000, out _);
        Assert.Equal(31_000_000, agent.ConsentDeadlineMicros);
        Handle(agent, Check(), B, 20_000_000, out _); // another path does not renew consent for A
        Assert.Equal(31_000_000, agent.ConsentDeadlineMicros);
        Handle(agent, Check(), A, 25_000_000, out _);
        Assert.False(agent.ConsentExpired(54_999_999));
        Assert.True(agent.ConsentExpired(55_000_000));
    }

    [Fact]
    public void BadChecksAreDroppedCountedAndUnanswered()
    {
        var agent = new IceLiteAgent(LocalUfrag, LocalPwd, RemoteUfrag, 0);
        Assert.Equal(IceCheckResult.BadIntegrity, Handle(agent, Check(pwd: "wrongwrongwrongwrongwrong"), A, 0, out var r1));
        Assert.Equal(IceCheckResult.WrongUsername, Handle(agent, Check(username: "other:" + RemoteUfrag), A, 0, out var r2));
        Assert.Equal(IceCheckResult.WrongUsername, Handle(agent, Check(username: LocalUfrag + ":evil"), A, 0, out _));
        Assert.Equal(IceCheckResult.Malformed, Handle(agent, Check(fingerprint: false), A, 0, out _));
        var flipped = Check();
        flipped[30] ^= 1;
        Assert.Equal(IceCheckResult.Malformed, Handle(agent, flipped, A, 0, out _)); // FINGERPRINT catches it
        Assert.Equal(IceCheckResult.Malformed, Handle(agent, new byte[] { 0, 1, 0, 0 }, A, 0, out _));
        Assert.Empty(r1);
        Assert.Empty(r2);
        Assert.Null(agent.Selected);
        Assert.Equal(1, agent.Counters[IceCheckResult.BadIntegrity]);
        Assert.Equal(2, agent.Counters[IceCheckResult.WrongUsername]);
        Assert.Equal(3, agent.Counters[IceCheckResult.Malformed]);
    }

    [Fact]
    public void UnknownComprehensionRequiredAttributesGet420()
    {
        var agent = new IceLiteAgent(LocalUfrag, LocalPwd, RemoteUfrag, 0);
        Assert.Equal(IceCheckResult.ErrorAnswered, Handle(agent, Check(extraAttribute: 0x0033), A, 0, out var response));
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.TryGetErrorCode(out int code, out _));
        Assert.Equal(420, code);
        Span<StunAttributeType> listed = stackalloc StunAttributeType[4];
        Assert.Equal(1, m.GetUnknownAttributes(listed));
        Assert.Equal((StunAttributeType)0x0033, listed[0]);
        Assert.Null(agent.Selected);
        // Comprehension-optional attributes (0x8000-0xFFFF) are fine.
        Assert.Equal(IceCheckResult.Answered, Handle(agent, Check(extraAttribute: 0xC057), A, 0, out _));
    }

    [Fact]
    public void AControlledPeerGetsRoleConflict()
    {
        var agent = new IceLiteAgent(LocalUfrag, LocalPwd, RemoteUfrag, 0);
        Assert.Equal(IceCheckResult.ErrorAnswered, Handle(agent, Check(controlled: true), A, 0, out var response));
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.TryGetErrorCode(out int code, out _));
        Assert.Equal(487, code);
    }

    [Fact]
    public void ChromiumsChecksFromTheCaptureAreAnswered()
    {
        static (string Ufrag, string Pwd) Creds(string sdp) =>
            (Regex.Match(sdp, @"a=ice-ufrag:(\S+)").Groups[1].Value, Regex.Match(sdp, @"a=ice-pwd:(\S+)").Groups[1].Value);
        var offer = Creds(Fixtures.ReadText("chromium156-offer.sdp"));
        var answer = Creds(Fixtures.ReadText("chromium156-answer.sdp"));
        // Play the answerer (controlled, like us): its checks come from the offerer (controlling).
        var agent = new IceLiteAgent(answer.Ufrag, answer.Pwd, offer.Ufrag, 0);
        int answered = 0;
        var buf = new byte[512];
        foreach (var d in PcapReader.ReadUdp(Fixtures.PathOf("chromium156-loopback.pcap")))
        {
            if (!StunMessageView.TryRead(d.Payload, out var m) || m.Class != StunClass.Request
                || !m.TryGetUsername(out var u) || !u.StartsWith(Encoding.UTF8.GetBytes(answer.Ufrag + ":")))
                continue;
            var from = NetAddress.FromIPEndPoint(d.Source);
            Assert.Equal(IceCheckResult.Answered, agent.HandleStun(d.Payload, from, (long)(d.TimeSeconds * 1e6), buf, out _));
            answered++;
        }
        Assert.True(answered > 0);
        Assert.True(agent.Nominated); // Chromium nominates with USE-CANDIDATE
    }

    [Fact]
    public void AnsweringAllocatesNothing()
    {
        var agent = new IceLiteAgent(LocalUfrag, LocalPwd, RemoteUfrag, 0);
        var check = Check(useCandidate: true);
        var buf = new byte[512];
        agent.HandleStun(check, A, 0, buf, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            agent.HandleStun(check, A, i, buf, out _);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
