using System.Net;
using Engine.Ice;

namespace Engine.Host.Tests.Peers;

/// <summary>The controlling ICE side against our ICE-lite agent, on a fake clock.</summary>
public class IceControllingAgentTests
{
    private static readonly NetAddress Client = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 40000));
    private static readonly NetAddress Server = NetAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 3478));

    private static IceControllingAgent NewAgent(long now = 0) => new("cli", "srv", "server-password-0123456789", Server, now, new Random(1));

    private static IceLiteAgent NewLite(long now = 0) => new("srv", "server-password-0123456789", "cli", now);

    [Fact]
    public void Check_CarriesTheIceAttributes_AndTheLiteAgentNominatesThePath()
    {
        var agent = NewAgent();
        var lite = NewLite();
        var buffer = new byte[512];
        var response = new byte[512];
        Assert.Equal(0, agent.NextTimeoutMicros);
        agent.HandleTimeout(0);
        Assert.True(agent.TryPollTransmit(buffer, out int n));
        Assert.False(agent.TryPollTransmit(buffer, out _));
        Assert.True(StunMessageView.TryRead(buffer.AsSpan(0, n), out var request));
        Assert.Equal(StunClass.Request, request.Class);
        Assert.True(request.HasUseCandidate);
        Assert.True(request.TryGetIceControlling(out _));
        Assert.True(request.TryGetPriority(out uint priority) && priority >> 24 == 110);
        Assert.True(request.TryGetUsername(out var user) && user.SequenceEqual("srv:cli"u8));
        Assert.True(request.HasFingerprint && request.VerifyFingerprint());

        Assert.Equal(IceCheckResult.Answered, lite.HandleStun(buffer.AsSpan(0, n), Client, 30_000, response, out int rn));
        Assert.True(lite.Nominated);
        Assert.Equal(Client, lite.Selected);
        Assert.True(agent.HandleStun(response.AsSpan(0, rn), Server, 60_000));
        Assert.Equal(IceControllingState.Connected, agent.State);
        Assert.Equal(60_000, agent.RttMicros);
        Assert.Equal(Client, agent.MappedAddress);
        // The same response again belongs to no open transaction.
        Assert.False(agent.HandleStun(response.AsSpan(0, rn), Server, 61_000));
        Assert.Equal(1, agent.ResponsesRejected);
    }

    [Fact]
    public void Unanswered_RetransmitsWithDoublingRto_ThenFails()
    {
        var agent = NewAgent();
        var buffer = new byte[512];
        var sentAt = new List<long>();
        byte[]? first = null;
        for (int step = 0; step < 100 && agent.State == IceControllingState.Checking; step++)
        {
            long now = agent.NextTimeoutMicros;
            agent.HandleTimeout(now);
            if (agent.TryPollTransmit(buffer, out int n))
            {
                sentAt.Add(now);
                first ??= buffer[..n];
                Assert.Equal(first, buffer[..n]); // RFC 8489 §6.2.1: the same transaction, byte for byte
            }
        }
        // RFC 8489 §6.2.1 with RTO 500 ms: 0, 500, 1500, 3500, 7500, 15500, 31500 ms; failure 16 × RTO after the last.
        Assert.Equal(new long[] { 0, 500_000, 1_500_000, 3_500_000, 7_500_000, 15_500_000, 31_500_000 }, sentAt);
        Assert.Equal(IceControllingState.Failed, agent.State);
        Assert.Equal(6, agent.Retransmissions);
        Assert.Equal(long.MaxValue, agent.NextTimeoutMicros);
    }

    [Theory]
    [InlineData("wrong-password-0123456789", false)] // integrity made with another password
    [InlineData("server-password-0123456789", true)] // right password, but from another address
    public void Response_WithBadIntegrityOrFromElsewhere_IsRejected(string password, bool otherAddress)
    {
        var agent = NewAgent();
        var buffer = new byte[512];
        var response = new byte[512];
        agent.HandleTimeout(0);
        Assert.True(agent.TryPollTransmit(buffer, out int n));
        // A valid answer, then (for the first case) the same answer signed with another password.
        var valid = NewLite();
        Assert.Equal(IceCheckResult.Answered, valid.HandleStun(buffer.AsSpan(0, n), Client, 0, response, out int rn));
        if (!otherAddress)
        {
            Assert.True(StunMessageView.TryRead(buffer.AsSpan(0, n), out var req));
            var w = new StunMessageWriter(response, StunMethod.Binding, StunClass.SuccessResponse, req.TransactionId);
            w.AddXorMappedAddress(Client);
            w.AddMessageIntegrity(System.Text.Encoding.UTF8.GetBytes(password));
            w.AddFingerprint();
            rn = w.Length;
        }
        var from = otherAddress ? Server.WithPort(3479) : Server;
        Assert.False(agent.HandleStun(response.AsSpan(0, rn), from, 10_000));
        Assert.Equal(IceControllingState.Checking, agent.State);
        Assert.Equal(1, agent.ResponsesRejected);
    }

    [Fact]
    public void ErrorResponse_FailsThePair()
    {
        var agent = NewAgent();
        var buffer = new byte[512];
        var response = new byte[512];
        agent.HandleTimeout(0);
        Assert.True(agent.TryPollTransmit(buffer, out int n));
        Assert.True(StunMessageView.TryRead(buffer.AsSpan(0, n), out var req));
        var w = new StunMessageWriter(response, StunMethod.Binding, StunClass.ErrorResponse, req.TransactionId);
        w.AddErrorCode(StunErrorCode.RoleConflict, "Role Conflict"u8);
        w.AddMessageIntegrity("server-password-0123456789"u8);
        w.AddFingerprint();
        Assert.False(agent.HandleStun(response.AsSpan(0, w.Length), Server, 1000));
        Assert.Equal(IceControllingState.Failed, agent.State);
        Assert.Equal(1, agent.ErrorResponses);
    }

    [Fact]
    public void Consent_ChecksEveryFourToSixSeconds_AndExpires30sAfterTheLastAnswer()
    {
        var agent = NewAgent();
        var lite = NewLite();
        var buffer = new byte[512];
        var response = new byte[512];
        long now = 0;
        var checks = new List<long>();
        bool answer = true;
        for (int step = 0; step < 10_000 && !agent.ConsentExpired(now); step++)
        {
            now = agent.NextTimeoutMicros;
            if (agent.ConsentExpired(now))
                break;
            agent.HandleTimeout(now);
            if (!agent.TryPollTransmit(buffer, out int n))
                continue;
            if (StunMessageView.TryRead(buffer.AsSpan(0, n), out var req) && agent.State == IceControllingState.Connected && agent.Retransmissions == 0)
                checks.Add(now);
            if (now >= 20_000_000)
                answer = false; // the remote goes silent
            if (answer && lite.HandleStun(buffer.AsSpan(0, n), Client, now, response, out int rn) == IceCheckResult.Answered)
                Assert.True(agent.HandleStun(response.AsSpan(0, rn), Server, now));
        }
        Assert.True(checks.Count >= 4);
        for (int i = 1; i < checks.Count; i++)
            Assert.InRange(checks[i] - checks[i - 1], 4_000_000, 6_000_000);
        Assert.True(agent.ConsentExpired(now));
        Assert.InRange(agent.ConsentDeadlineMicros, 20_000_000, 20_000_000 + 30_000_000);
        Assert.InRange(now, 45_000_000, 56_000_000); // 30 s after the last answer, which was before 20 s
    }
}
