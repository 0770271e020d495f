using Engine.Ice.Turn;

namespace Engine.Ice.Tests.Turn;

/// <summary>EVEN-PORT with the R bit, RESERVATION-TOKEN (RFC 8656 §7.2, §14.6, §14.9) and DONT-FRAGMENT, on a fake clock.</summary>
public class TurnReservationTests
{
    private static readonly byte[] EvenPortR = { 0x80 };
    private readonly TestClock _clock = new();
    private readonly FakeRelayPortAllocator _ports = new();

    private TurnServer NewServer(Action<TurnServerOptions>? configure = null)
    {
        var o = T.Options();
        configure?.Invoke(o);
        return new TurnServer(o, _ports);
    }

    private static byte[] Token(byte[] response)
    {
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.TryGetAttribute(StunAttributeType.ReservationToken, out var token), "no RESERVATION-TOKEN in the success");
        Assert.Equal(8, token.Length);
        return token.ToArray();
    }

    private static NetAddress Relay(byte[] response)
    {
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.TryGetXorRelayedAddress(out var relay));
        return relay;
    }

    private void RunTimers(TurnServer server)
    {
        if (_clock.Now >= server.NextTimeoutMicros)
            server.HandleTimeout(_clock.Now);
    }

    [Fact]
    public void EvenPortWithR_ReservesTheNextPort_AndItsTokenClaimsIt()
    {
        var server = NewServer();
        var rtp = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5000"));
        var response = rtp.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.EvenPort, EvenPortR));
        Assert.Equal(0, T.ErrorCode(response));
        var relay = Relay(response);
        var token = Token(response);
        Assert.Equal(0, relay.Port % 2);
        var reserved = relay.WithPort((ushort)(relay.Port + 1));
        Assert.Contains(reserved, _ports.Active);
        Assert.Equal(1, server.ReservationCount);
        Assert.Equal(1, server.AllocationCount);

        // A retransmission gets the same success, token included, and reserves nothing more.
        var again = rtp.RequestOnce(StunMethod.Allocate, (ref StunMessageWriter w) =>
        {
            w.AddRequestedTransport(17);
            w.AddAttribute(StunAttributeType.EvenPort, EvenPortR);
        }, rtp.LastTransactionId);
        Assert.Equal(token, Token(again));
        Assert.Equal(2, _ports.Active.Count);

        // Another 5-tuple, even another transport (§7.2: the reservation is server-wide), claims it.
        var rtcp = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5001", TurnTransport.Tcp));
        var claimed = rtcp.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ReservationToken, token));
        Assert.Equal(0, T.ErrorCode(claimed));
        Assert.Equal(reserved, Relay(claimed));
        Assert.Equal(0, server.ReservationCount);
        Assert.Equal(2, server.AllocationCount);
        Assert.False(StunMessageView.TryRead(claimed, out var c) && c.Has(StunAttributeType.ReservationToken));

        // Claimed once: the same token again is 508 (§7.2 step 5).
        var late = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5002"));
        Assert.Equal(508, T.ErrorCode(late.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ReservationToken, token))));

        // The claimed port is an allocation like any other: it goes back when that allocation ends.
        Assert.Equal(0, T.ErrorCode(rtcp.Refresh(0)));
        Assert.Contains(reserved, _ports.Released);
        Assert.DoesNotContain(reserved, _ports.Active);
    }

    [Fact]
    public void AnUnclaimedReservationIsReleasedAfter30Seconds()
    {
        var server = NewServer();
        var rtp = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5000"));
        var response = rtp.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.EvenPort, EvenPortR));
        var relay = Relay(response);
        var token = Token(response);
        var reserved = relay.WithPort((ushort)(relay.Port + 1));
        Assert.True(server.NextTimeoutMicros <= _clock.Now + 30_000_000);

        _clock.Advance(29);
        RunTimers(server);
        Assert.Contains(reserved, _ports.Active);
        Assert.Equal(1, server.ReservationCount);

        // Expired before the timer ran: refused all the same.
        _clock.Advance(1.5);
        var late = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5001"));
        Assert.Equal(508, T.ErrorCode(late.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ReservationToken, token))));

        _clock.Advance(1);
        RunTimers(server);
        Assert.Equal(0, server.ReservationCount);
        Assert.Contains(reserved, _ports.Released);
        Assert.DoesNotContain(reserved, _ports.Active);
        // The allocation that made the reservation lives on.
        Assert.Equal(1, server.AllocationCount);
        Assert.Contains(relay, _ports.Active);
        Assert.True(server.NextTimeoutMicros > _clock.Now + 500_000_000, "only the allocation's expiry is left");
    }

    [Fact]
    public void TokenWithEvenPortOrAFamily_Is400_AndRWithADualAllocationToo()
    {
        var server = NewServer();
        var rtp = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5000"));
        var token = Token(rtp.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.EvenPort, EvenPortR)));
        int n = 0;
        TurnTestClient Next() => new(server, _clock, T.Tuple($"203.0.113.8:{40000 + n++}"));

        Assert.Equal(400, T.ErrorCode(Next().Allocate((ref StunMessageWriter w) =>
        {
            w.AddAttribute(StunAttributeType.ReservationToken, token);
            w.AddAttribute(StunAttributeType.EvenPort, new byte[] { 0x00 });
        })));
        Assert.Equal(400, T.ErrorCode(Next().Allocate((ref StunMessageWriter w) =>
        {
            w.AddAttribute(StunAttributeType.ReservationToken, token);
            w.AddAttribute(StunAttributeType.RequestedAddressFamily, new byte[] { 1, 0, 0, 0 });
        })));
        Assert.Equal(400, T.ErrorCode(Next().Allocate((ref StunMessageWriter w) =>
        {
            w.AddAttribute(StunAttributeType.ReservationToken, token);
            w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 2, 0, 0, 0 });
        })));
        Assert.Equal(400, T.ErrorCode(Next().Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ReservationToken, token.AsSpan(0, 7)))));
        Assert.Equal(400, T.ErrorCode(Next().Allocate((ref StunMessageWriter w) =>
        {
            w.AddAttribute(StunAttributeType.EvenPort, EvenPortR);
            w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 2, 0, 0, 0 });
        })));
        // None of these took the reservation.
        Assert.Equal(1, server.ReservationCount);
        Assert.Equal(1, server.AllocationCount);
        Assert.Equal(0, T.ErrorCode(Next().Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ReservationToken, token))));
    }

    [Fact]
    public void NoFreePair_Is508AndNothingIsHeld()
    {
        var server = NewServer();
        _ports.SupportsPairs = false;
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5000"));
        Assert.Equal(508, T.ErrorCode(client.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.EvenPort, EvenPortR))));
        Assert.Equal(0, server.AllocationCount);
        Assert.Equal(0, server.ReservationCount);
        Assert.Empty(_ports.Active);
    }

    [Fact]
    public void AQuotaRefusalDoesNotSpendTheToken()
    {
        var server = NewServer(o => o.MaxAllocationsPerUser = 1);
        var token = Token(new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5000"))
            .Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.EvenPort, EvenPortR)));
        var alice = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5001"));
        Assert.Equal(486, T.ErrorCode(alice.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ReservationToken, token))));
        Assert.Equal(1, server.ReservationCount);
        var bob = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5002"), "bob", "bob-pass");
        Assert.Equal(0, T.ErrorCode(bob.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ReservationToken, token))));
        Assert.Equal(0, server.ReservationCount);
    }

    [Fact]
    public void DontFragment_IsAskedOfTheHostForEveryRelayOfThatAllocationOnly()
    {
        var server = NewServer(o => o.SupportsDontFragment = true);
        var plain = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5000")).AllocateOk();
        Assert.Empty(_ports.DontFragment);

        var df = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5001"));
        var relay = df.AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.DontFragment, default));
        Assert.Equal(new[] { relay }, _ports.DontFragment.ToArray());

        var dual = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5002"));
        var response = dual.Allocate((ref StunMessageWriter w) =>
        {
            w.AddAttribute(StunAttributeType.DontFragment, default);
            w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 2, 0, 0, 0 });
        });
        Assert.Equal(0, T.ErrorCode(response));
        Assert.Equal(3, _ports.DontFragment.Count);
        Assert.DoesNotContain(plain, _ports.DontFragment);

        // With EVEN-PORT R: the relay gets DF, the reserved port only if its own Allocate asks.
        var pair = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5003"));
        var withR = pair.Allocate((ref StunMessageWriter w) =>
        {
            w.AddAttribute(StunAttributeType.DontFragment, default);
            w.AddAttribute(StunAttributeType.EvenPort, EvenPortR);
        });
        var pairRelay = Relay(withR);
        Assert.Contains(pairRelay, _ports.DontFragment);
        Assert.DoesNotContain(pairRelay.WithPort((ushort)(pairRelay.Port + 1)), _ports.DontFragment);
        var claim = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5004"));
        var claimed = claim.AllocateOk((ref StunMessageWriter w) =>
        {
            w.AddAttribute(StunAttributeType.DontFragment, default);
            w.AddAttribute(StunAttributeType.ReservationToken, Token(withR));
        });
        Assert.Contains(claimed, _ports.DontFragment);
    }
}
