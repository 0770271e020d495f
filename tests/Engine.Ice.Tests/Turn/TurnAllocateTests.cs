using System.Text;
using Engine.Ice.Turn;

namespace Engine.Ice.Tests.Turn;

public class TurnAllocateTests
{
    private readonly TestClock _clock = new();
    private readonly FakeRelayPortAllocator _ports = new();

    private TurnServer NewServer(Action<TurnServerOptions>? configure = null)
    {
        var o = T.Options();
        configure?.Invoke(o);
        return new TurnServer(o, _ports);
    }

    [Fact]
    public void AllocateDance_401ThenAuthenticatedSuccess()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));

        var challenge = client.RequestOnce(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(17));
        Assert.Equal(401, T.ErrorCode(challenge));
        Assert.True(StunMessageView.TryRead(challenge, out var c));
        Assert.True(c.TryGetRealm(out var realm));
        Assert.Equal("example.org"u8.ToArray(), realm.ToArray());
        Assert.True(c.TryGetNonce(out var nonce) && nonce.Length > 0);
        Assert.False(c.HasMessageIntegrity);
        Assert.True(c.VerifyFingerprint());
        Assert.Equal(0, server.AllocationCount);
        Assert.Empty(_ports.Active);

        var ok = client.RequestOnce(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(17));
        Assert.Equal(0, T.ErrorCode(ok));
        Assert.True(StunMessageView.TryRead(ok, out var m));
        Assert.True(m.VerifyMessageIntegrity(client.Key));
        Assert.True(m.VerifyFingerprint());
        Assert.True(m.TryGetXorRelayedAddress(out var relay));
        Assert.Equal(_ports.Active.Single(), relay);
        Assert.True(m.TryGetLifetime(out uint lifetime));
        Assert.Equal(600u, lifetime);
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(T.A("203.0.113.7:50000"), mapped);
        Assert.Equal(1, server.AllocationCount);
        Assert.Equal(1, server.Counters.Allocations);
        Assert.Equal(_clock.Now + 600_000_000, server.NextTimeoutMicros);
    }

    [Theory]
    [InlineData(7200u, 3600u)]
    [InlineData(100u, 600u)]
    [InlineData(1800u, 1800u)]
    public void Lifetime_IsClampedBetweenDefaultAndMax(uint requested, uint granted)
    {
        var client = new TurnTestClient(NewServer(), _clock, T.Tuple("203.0.113.7:50000"));
        var response = client.Allocate((ref StunMessageWriter w) => w.AddLifetime(requested));
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.TryGetLifetime(out uint lifetime));
        Assert.Equal(granted, lifetime);
    }

    [Fact]
    public void Refresh_ExtendsAndZeroDeletes()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));
        var relay = client.AllocateOk();

        _clock.Advance(500);
        var refreshed = client.Refresh(1200);
        Assert.Equal(0, T.ErrorCode(refreshed));
        Assert.True(StunMessageView.TryRead(refreshed, out var m));
        Assert.True(m.TryGetLifetime(out uint lifetime));
        Assert.True(m.VerifyMessageIntegrity(client.Key));
        Assert.Equal(1200u, lifetime);
        _clock.Advance(1000); // past the first 600 s, within the refreshed 1200 s
        server.HandleTimeout(_clock.Now);
        Assert.Equal(1, server.AllocationCount);

        var deleted = client.Refresh(0);
        Assert.Equal(0, T.ErrorCode(deleted));
        Assert.True(StunMessageView.TryRead(deleted, out var d));
        Assert.True(d.TryGetLifetime(out uint zero));
        Assert.Equal(0u, zero);
        Assert.Equal(0, server.AllocationCount);
        Assert.Equal(relay, _ports.Released.Single());
        Assert.Equal(0, server.Counters.Allocations);

        Assert.Equal(437, T.ErrorCode(client.Refresh(600)));
    }

    [Fact]
    public void Expiry_ReturnsThePortAndForgetsTheAllocation()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));
        var relay = client.AllocateOk();
        Assert.Equal(0, T.ErrorCode(client.CreatePermission(T.A("203.0.113.50:1"))));

        _clock.Advance(599);
        server.HandleTimeout(_clock.Now);
        Assert.Equal(1, server.AllocationCount);
        _clock.Advance(2);
        Assert.True(server.NextTimeoutMicros <= _clock.Now);
        server.HandleTimeout(_clock.Now);
        Assert.Equal(0, server.AllocationCount);
        Assert.Equal(relay, _ports.Released.Single());
        Assert.Equal(0, server.Counters.Permissions);
        Assert.Equal(long.MaxValue, server.NextTimeoutMicros);

        // A peer datagram on the old relay is dropped, not delivered.
        var action = server.HandlePeerDatagram(relay, T.A("203.0.113.50:1"), new byte[10], _clock.Now, new byte[100], out _, out _);
        Assert.Equal(TurnAction.None, action);
        Assert.Equal(1, server.Counters[TurnDropReason.NoAllocation]);
    }

    [Fact]
    public void StaleNonce_Answers438WithAFreshNonce()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));
        client.AllocateOk((ref StunMessageWriter w) => w.AddLifetime(3600));
        _clock.Advance(601); // the nonce lives 600 s, the allocation 3600 s
        var stale = client.RequestOnce(StunMethod.Refresh);
        Assert.Equal(438, T.ErrorCode(stale));
        Assert.True(StunMessageView.TryRead(stale, out var m));
        Assert.True(m.TryGetNonce(out _));
        Assert.True(m.TryGetRealm(out _));
        Assert.False(m.HasMessageIntegrity);
        Assert.Equal(0, T.ErrorCode(client.RequestOnce(StunMethod.Refresh)));
    }

    [Fact]
    public void ForgedOrForeignNonce_IsStale()
    {
        var server = NewServer();
        var alice = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));
        alice.AllocateOk();
        // A nonce issued to another client address does not verify here.
        var other = new TurnTestClient(server, _clock, T.Tuple("203.0.113.8:50000"));
        var challenge = other.RequestOnce(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(17));
        Assert.True(StunMessageView.TryRead(challenge, out var c));
        Assert.True(c.TryGetNonce(out var n));
        var foreignNonce = n.ToArray();
        var req = new byte[512];
        var w = new StunMessageWriter(req, StunMethod.Refresh, StunClass.Request, new byte[12]);
        w.AddText(StunAttributeType.Username, "alice");
        w.AddText(StunAttributeType.Realm, "example.org");
        w.AddAttribute(StunAttributeType.Nonce, foreignNonce);
        w.AddMessageIntegrity(alice.Key);
        var (_, output, _, _) = alice.Send(req.AsSpan(0, w.Length));
        Assert.Equal(438, T.ErrorCode(output));
    }

    [Fact]
    public void WrongPassword_Is401AndUnknownUserIs401()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000")) { Password = "wrong" };
        Assert.Equal(401, T.ErrorCode(client.Allocate()));
        client.User = "mallory";
        Assert.Equal(401, T.ErrorCode(client.Allocate()));
        Assert.Equal(0, server.AllocationCount);
    }

    [Fact]
    public void MissingRealmOrNonceWithIntegrity_Is400()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));
        var req = new byte[512];
        var w = new StunMessageWriter(req, StunMethod.Allocate, StunClass.Request, new byte[12]);
        w.AddRequestedTransport(17);
        w.AddText(StunAttributeType.Username, "alice");
        w.AddMessageIntegrity(client.Key);
        Assert.Equal(400, T.ErrorCode(client.Send(req.AsSpan(0, w.Length)).Output));
    }

    [Fact]
    public void SecondAllocateOnSameFiveTuple_Is437_RetransmissionIsAnsweredAgain()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));
        var relay = client.AllocateOk();
        var txid = client.LastTransactionId;

        var again = client.RequestOnce(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(17), txid);
        Assert.Equal(0, T.ErrorCode(again));
        Assert.True(StunMessageView.TryRead(again, out var m));
        Assert.True(m.TryGetXorRelayedAddress(out var same));
        Assert.Equal(relay, same);

        Assert.Equal(437, T.ErrorCode(client.Allocate()));
        Assert.Single(_ports.Active);
    }

    [Fact]
    public void AnotherUserOnTheSameFiveTuple_Is441()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));
        client.AllocateOk();
        client.User = "bob";
        client.Password = "bob-pass";
        var response = client.Refresh(600);
        Assert.Equal(441, T.ErrorCode(response));
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.VerifyMessageIntegrity(client.Key));
        Assert.Equal(441, T.ErrorCode(client.Allocate()));
        Assert.Equal(441, T.ErrorCode(client.CreatePermission(T.A("203.0.113.50:1"))));
    }

    [Fact]
    public void Quotas_PerUserAndTotal_Answer486()
    {
        var server = NewServer(o =>
        {
            o.MaxAllocationsPerUser = 2;
            o.MaxAllocations = 3;
        });
        for (int i = 0; i < 2; i++)
            new TurnTestClient(server, _clock, T.Tuple($"203.0.113.7:{50000 + i}")).AllocateOk();
        Assert.Equal(486, T.ErrorCode(new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50002")).Allocate()));

        new TurnTestClient(server, _clock, T.Tuple("203.0.113.8:50000"), "bob", "bob-pass").AllocateOk();
        Assert.Equal(486, T.ErrorCode(new TurnTestClient(server, _clock, T.Tuple("203.0.113.8:50001"), "bob", "bob-pass").Allocate()));
        Assert.Equal(3, server.AllocationCount);

        // Freeing one makes room again.
        var first = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"));
        Assert.Equal(0, T.ErrorCode(first.Refresh(0)));
        new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50003")).AllocateOk();
    }

    [Fact]
    public void RestSharedSecret_ValidIsAccepted_ExpiredIsRefused()
    {
        var server = NewServer(o => o.SharedSecret = "s3cret");
        long unix = _clock.Now / 1_000_000;
        string user = $"{unix + 3600}:carol";
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"), user, T.RestPassword("s3cret", user));
        client.AllocateOk();

        string expired = $"{unix - 1}:carol";
        var late = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50001"), expired, T.RestPassword("s3cret", expired));
        Assert.Equal(401, T.ErrorCode(late.Allocate()));

        string forged = $"{unix + 3600}:carol";
        var wrong = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50002"), forged, T.RestPassword("other", forged));
        Assert.Equal(401, T.ErrorCode(wrong.Allocate()));

        // Once the username's time passes, its allocation cannot be refreshed.
        _clock.Advance(3601);
        Assert.Equal(401, T.ErrorCode(client.Refresh(600)));
    }

    [Fact]
    public void RestQuota_CountsTheUserNotTheCredential()
    {
        var server = NewServer(o =>
        {
            o.SharedSecret = "s3cret";
            o.MaxAllocationsPerUser = 2;
        });
        long unix = _clock.Now / 1_000_000;
        for (int i = 0; i < 3; i++)
        {
            string user = $"{unix + 3600 + i}:carol";
            var client = new TurnTestClient(server, _clock, T.Tuple($"203.0.113.7:{50000 + i}"), user, T.RestPassword("s3cret", user));
            Assert.Equal(i < 2 ? 0 : 486, T.ErrorCode(client.Allocate()));
        }
        string dan = $"{unix + 3600}:dan";
        new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50010"), dan, T.RestPassword("s3cret", dan)).AllocateOk();
    }

    [Fact]
    public void NoRelayPortLeft_Is508AndNothingIsHeld()
    {
        var server = NewServer();
        _ports.Capacity = 0;
        Assert.Equal(508, T.ErrorCode(new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:1")).Allocate()));
        Assert.Equal(0, server.AllocationCount);
        Assert.Equal(0, server.Counters.Allocations);
        _ports.Capacity = 1;
        new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:1")).AllocateOk();
    }

    [Fact]
    public void StaticUserGivenAsKey_IsAccepted()
    {
        var key = new byte[16];
        StunLongTermCredential.TryComputeKey("dave", "example.org", "dave-pass", key);
        var server = NewServer(o => o.Users["dave"] = "0x" + Convert.ToHexString(key));
        new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:50000"), "dave", "dave-pass").AllocateOk();
    }

    [Fact]
    public void AllocateOptions_TransportEvenPortTokenDontFragment()
    {
        var server = NewServer();
        int n = 0;
        TurnTestClient Next() => new(server, _clock, T.Tuple($"203.0.113.7:{40000 + n++}"));

        Assert.Equal(442, T.ErrorCode(Next().Request(StunMethod.Allocate, (ref StunMessageWriter w) => w.AddRequestedTransport(6))));
        Assert.Equal(400, T.ErrorCode(Next().Request(StunMethod.Allocate, null)));
        // EVEN-PORT with R and RESERVATION-TOKEN have their own tests (TurnReservationTests); a token never handed out is 508.
        Assert.Equal(508, T.ErrorCode(Next().Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.ReservationToken, new byte[8]))));
        var df = Next().Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.DontFragment, default));
        Assert.Equal(420, T.ErrorCode(df));
        Assert.True(StunMessageView.TryRead(df, out var m));
        Span<StunAttributeType> unknown = stackalloc StunAttributeType[4];
        Assert.Equal(1, m.GetUnknownAttributes(unknown));
        Assert.Equal(StunAttributeType.DontFragment, unknown[0]);
        Assert.Equal(0, server.AllocationCount);

        Next().AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.EvenPort, new byte[] { 0x00 }));
        Assert.True(_ports.LastAskedEven);
        var withDf = new TurnServer(WithDf(), _ports);
        new TurnTestClient(withDf, _clock, T.Tuple("203.0.113.9:1")).AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.DontFragment, default));
    }

    private static TurnServerOptions WithDf()
    {
        var o = T.Options();
        o.SupportsDontFragment = true;
        return o;
    }

    [Fact]
    public void AddressFamilies_RequestedAdditionalAndRefused()
    {
        var server = NewServer();
        var v6 = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:1"));
        var relay6 = v6.AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.RequestedAddressFamily, new byte[] { 2, 0, 0, 0 }));
        Assert.True(relay6.IsIPv6);

        var dual = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:2"));
        var response = dual.Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 2, 0, 0, 0 }));
        Assert.Equal(0, T.ErrorCode(response));
        Assert.Equal(2, CountAttributes(response, StunAttributeType.XorRelayedAddress));

        Assert.Equal(440, T.ErrorCode(new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:3"))
            .Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.RequestedAddressFamily, new byte[] { 3, 0, 0, 0 }))));
        Assert.Equal(400, T.ErrorCode(new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:4")).Allocate((ref StunMessageWriter w) =>
        {
            w.AddAttribute(StunAttributeType.RequestedAddressFamily, new byte[] { 1, 0, 0, 0 });
            w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 2, 0, 0, 0 });
        })));
        Assert.Equal(400, T.ErrorCode(new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:5"))
            .Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 1, 0, 0, 0 }))));

        // No IPv6 relays: a dual request still gets IPv4, with ADDRESS-ERROR-CODE 440 for IPv6.
        _ports.SupportsIPv6 = false;
        var refused = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:6"))
            .Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 2, 0, 0, 0 }));
        Assert.Equal(0, T.ErrorCode(refused));
        Assert.True(StunMessageView.TryRead(refused, out var r));
        Assert.True(r.TryGetAttribute(StunAttributeType.AddressErrorCode, out var aec));
        Assert.Equal(new byte[] { 2, 0, 4, 40 }, aec[..4].ToArray());
        Assert.Equal(440, T.ErrorCode(new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:7"))
            .Allocate((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.RequestedAddressFamily, new byte[] { 2, 0, 0, 0 }))));
    }

    [Fact]
    public void DualAllocation_RefreshZeroForOneFamily_KeepsTheOther()
    {
        var server = NewServer();
        var dual = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:2"));
        dual.AllocateOk((ref StunMessageWriter w) => w.AddAttribute(StunAttributeType.AdditionalAddressFamily, new byte[] { 2, 0, 0, 0 }));
        Assert.Equal(2, _ports.Active.Count);
        var r = dual.Request(StunMethod.Refresh, (ref StunMessageWriter w) =>
        {
            w.AddLifetime(0);
            w.AddAttribute(StunAttributeType.RequestedAddressFamily, new byte[] { 2, 0, 0, 0 });
        });
        Assert.Equal(0, T.ErrorCode(r));
        Assert.Equal(1, server.AllocationCount);
        Assert.True(_ports.Active.Single().IsIPv4);
        Assert.Equal(443, T.ErrorCode(dual.Request(StunMethod.Refresh, (ref StunMessageWriter w) =>
            w.AddAttribute(StunAttributeType.RequestedAddressFamily, new byte[] { 2, 0, 0, 0 }))));
    }

    [Fact]
    public void Binding_AnswersXorMappedAddressWithoutCredentials()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("[2001:db8::7]:61000"));
        var (action, output, _, _) = client.Send(client.Build(StunMethod.Binding, StunClass.Request, null, authenticate: false));
        Assert.Equal(TurnAction.ToClient, action);
        Assert.True(StunMessageView.TryRead(output, out var m));
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(T.A("[2001:db8::7]:61000"), mapped);
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void Binding_WithUnknownComprehensionRequiredAttribute_Is420()
    {
        var server = NewServer();
        var client = new TurnTestClient(server, _clock, T.Tuple("203.0.113.7:1"));
        var request = client.Build(StunMethod.Binding, StunClass.Request, (ref StunMessageWriter w) => w.AddAttribute((StunAttributeType)0x7F01, new byte[4]), authenticate: false);
        Assert.Equal(420, T.ErrorCode(client.Send(request).Output));
    }

    [Fact]
    public void UnknownComprehensionRequiredAttribute_Is420AfterAuthentication()
    {
        var client = new TurnTestClient(NewServer(), _clock, T.Tuple("203.0.113.7:1"));
        var r = client.Allocate((ref StunMessageWriter w) => w.AddAttribute((StunAttributeType)0x7F01, new byte[4]));
        Assert.Equal(420, T.ErrorCode(r));
    }

    [Fact]
    public void SoftwareIsWrittenWhenConfigured()
    {
        var client = new TurnTestClient(NewServer(o => o.Software = "engine-turn"), _clock, T.Tuple("203.0.113.7:1"));
        var r = client.Allocate();
        Assert.True(StunMessageView.TryRead(r, out var m));
        Assert.True(m.TryGetSoftware(out var sw));
        Assert.Equal("engine-turn", Encoding.UTF8.GetString(sw));
        Assert.True(m.VerifyMessageIntegrity(client.Key));
    }

    internal static int CountAttributes(byte[] message, StunAttributeType type)
    {
        int count = 0;
        for (int offset = 20; offset + 4 <= message.Length;)
        {
            int t = message[offset] << 8 | message[offset + 1];
            int length = message[offset + 2] << 8 | message[offset + 3];
            if (t == (int)type)
                count++;
            offset += 4 + ((length + 3) & ~3);
        }
        return count;
    }
}
