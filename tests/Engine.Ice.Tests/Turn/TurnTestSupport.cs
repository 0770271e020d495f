using System.Net;
using System.Security.Cryptography;
using System.Text;
using Engine.Ice.Turn;

namespace Engine.Ice.Tests.Turn;

internal delegate void AddAttributes(ref StunMessageWriter w);

/// <summary>Hands out relayed addresses from documentation ranges and records what came back.</summary>
internal sealed class FakeRelayPortAllocator : IRelayPortAllocator
{
    private ushort _nextPort = 49152;
    public bool SupportsIPv6 { get; set; } = true;
    public int Capacity { get; set; } = 1000;
    public HashSet<NetAddress> Active { get; } = new();
    public List<NetAddress> Released { get; } = new();
    public bool LastAskedEven { get; private set; }

    public bool TryAllocate(bool ipv6, bool evenPort, out NetAddress relayAddress)
    {
        relayAddress = default;
        LastAskedEven = evenPort;
        if (ipv6 && !SupportsIPv6 || Active.Count >= Capacity)
            return false;
        ushort port = _nextPort;
        _nextPort += 2;
        relayAddress = T.A(ipv6 ? $"[2001:db8::100]:{port}" : $"198.51.100.1:{port}");
        Active.Add(relayAddress);
        return true;
    }

    public bool SupportsPairs { get; set; } = true;
    public HashSet<NetAddress> DontFragment { get; } = new();

    public bool TryAllocatePair(bool ipv6, out NetAddress relayAddress, out NetAddress reservedAddress)
    {
        relayAddress = reservedAddress = default;
        if (!SupportsPairs || ipv6 && !SupportsIPv6 || Active.Count + 2 > Capacity)
            return false;
        ushort port = _nextPort;
        _nextPort += 2;
        string ip = ipv6 ? "[2001:db8::100]" : "198.51.100.1";
        relayAddress = T.A($"{ip}:{port}");
        reservedAddress = T.A($"{ip}:{port + 1}");
        Active.Add(relayAddress);
        Active.Add(reservedAddress);
        return true;
    }

    public void SetDontFragment(in NetAddress relayAddress)
    {
        Assert.True(Active.Contains(relayAddress), "DF asked for an address that is not handed out");
        DontFragment.Add(relayAddress);
    }

    public void Release(in NetAddress relayAddress)
    {
        DontFragment.Remove(relayAddress);
        Assert.True(Active.Remove(relayAddress), "released an address that was not handed out");
        Released.Add(relayAddress);
    }
}

internal sealed class TestClock
{
    public long Now = 1_700_000_000L * 1_000_000; // Unix micros, so REST expiry needs no offset
    public void Advance(double seconds) => Now += (long)(seconds * 1_000_000);
}

internal static class T
{
    public static NetAddress A(string endPoint) => NetAddress.FromIPEndPoint(IPEndPoint.Parse(endPoint));

    public static readonly NetAddress ServerAddress = A("192.0.2.1:3478");

    public static TurnFiveTuple Tuple(string client, TurnTransport transport = TurnTransport.Udp) => new(transport, A(client), ServerAddress);

    public static TurnServerOptions Options()
    {
        var o = new TurnServerOptions { Realm = "example.org", NonceSecret = Encoding.ASCII.GetBytes("nonce-secret-for-tests") };
        o.Users["alice"] = "alice-pass";
        o.Users["bob"] = "bob-pass";
        return o;
    }

    public static int ErrorCode(byte[] response)
    {
        Assert.True(StunMessageView.TryRead(response, out var m), "response does not parse");
        if (m.Class == StunClass.SuccessResponse)
            return 0;
        Assert.Equal(StunClass.ErrorResponse, m.Class);
        Assert.True(m.TryGetErrorCode(out int code, out _));
        return code;
    }

    public static string RestPassword(string secret, string username) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(username)));
}

/// <summary>A TURN client over a direct call into the server, built from <see cref="StunMessageWriter"/>.</summary>
internal sealed class TurnTestClient
{
    private readonly byte[] _buffer = new byte[2048];
    private byte[]? _nonce;

    public TurnTestClient(TurnServer server, TestClock clock, TurnFiveTuple tuple, string user = "alice", string password = "alice-pass", string realm = "example.org")
    {
        Server = server;
        Clock = clock;
        Tuple = tuple;
        User = user;
        Password = password;
        Realm = realm;
    }

    public TurnServer Server { get; }
    public TestClock Clock { get; }
    public TurnFiveTuple Tuple { get; }
    public string User { get; set; }
    public string Password { get; set; }
    public string Realm { get; }
    public byte[] LastTransactionId { get; private set; } = new byte[12];

    public byte[] Key
    {
        get
        {
            var key = new byte[16];
            StunLongTermCredential.TryComputeKey(User, Realm, Password, key);
            return key;
        }
    }

    public byte[] Build(StunMethod method, StunClass cls, AddAttributes? attributes, bool authenticate, byte[]? transactionId = null, bool fingerprint = true)
    {
        var txid = transactionId ?? RandomNumberGenerator.GetBytes(12);
        LastTransactionId = txid;
        var buffer = new byte[2048];
        var w = new StunMessageWriter(buffer, method, cls, txid);
        attributes?.Invoke(ref w);
        if (authenticate && _nonce is not null)
        {
            w.AddText(StunAttributeType.Username, User);
            w.AddText(StunAttributeType.Realm, Realm);
            w.AddAttribute(StunAttributeType.Nonce, _nonce);
            w.AddMessageIntegrity(Key);
        }
        if (fingerprint)
            w.AddFingerprint();
        Assert.False(w.Failed);
        return buffer[..w.Length];
    }

    /// <summary>Sends one datagram; returns the action and a copy of the output.</summary>
    public (TurnAction Action, byte[] Output, NetAddress Relay, NetAddress Peer) Send(ReadOnlySpan<byte> datagram)
    {
        var action = Server.HandleClientMessage(datagram, Tuple, Clock.Now, _buffer, out int length, out var relay, out var peer);
        if (action == TurnAction.None)
            Assert.Equal(0, length);
        return (action, _buffer[..length], relay, peer);
    }

    /// <summary>A request without retry; the response's REALM/NONCE are remembered.</summary>
    public byte[] RequestOnce(StunMethod method, AddAttributes? attributes = null, byte[]? transactionId = null)
    {
        var (action, output, _, _) = Send(Build(method, StunClass.Request, attributes, authenticate: true, transactionId));
        Assert.Equal(TurnAction.ToClient, action);
        Assert.True(StunMessageView.TryRead(output, out var m));
        Assert.Equal(method, m.Method);
        Assert.Equal(LastTransactionId, m.TransactionId.ToArray());
        if (m.TryGetNonce(out var nonce))
            _nonce = nonce.ToArray();
        return output;
    }

    /// <summary>A request, retried once after 401 or 438 with the new nonce (RFC 8489 §9.2.5).</summary>
    public byte[] Request(StunMethod method, AddAttributes? attributes = null)
    {
        var response = RequestOnce(method, attributes);
        int code = T.ErrorCode(response);
        if (code is 401 or 438)
            response = RequestOnce(method, attributes);
        return response;
    }

    public byte[] Allocate(AddAttributes? extra = null) =>
        Request(StunMethod.Allocate, (ref StunMessageWriter w) =>
        {
            w.AddRequestedTransport(17);
            extra?.Invoke(ref w);
        });

    public NetAddress AllocateOk(AddAttributes? extra = null)
    {
        var response = Allocate(extra);
        Assert.Equal(0, T.ErrorCode(response));
        Assert.True(StunMessageView.TryRead(response, out var m));
        Assert.True(m.TryGetXorRelayedAddress(out var relay));
        return relay;
    }

    public byte[] CreatePermission(params NetAddress[] peers) =>
        Request(StunMethod.CreatePermission, (ref StunMessageWriter w) =>
        {
            foreach (var p in peers)
                w.AddXorPeerAddress(p);
        });

    public byte[] ChannelBind(ushort channel, NetAddress peer) =>
        Request(StunMethod.ChannelBind, (ref StunMessageWriter w) =>
        {
            w.AddChannelNumber(channel);
            w.AddXorPeerAddress(peer);
        });

    public byte[] Refresh(uint? lifetime) =>
        Request(StunMethod.Refresh, (ref StunMessageWriter w) =>
        {
            if (lifetime is { } l)
                w.AddLifetime(l);
        });

    public byte[] SendIndication(NetAddress peer, ReadOnlySpan<byte> data)
    {
        var payload = data.ToArray();
        return Build(StunMethod.Send, StunClass.Indication, (ref StunMessageWriter w) =>
        {
            w.AddXorPeerAddress(peer);
            w.AddAttribute(StunAttributeType.Data, payload);
        }, authenticate: false, fingerprint: false);
    }

    public static byte[] ChannelData(ushort channel, ReadOnlySpan<byte> data, bool pad = false)
    {
        int length = 4 + data.Length;
        var bytes = new byte[pad ? (length + 3) & ~3 : length];
        bytes[0] = (byte)(channel >> 8);
        bytes[1] = (byte)channel;
        bytes[2] = (byte)(data.Length >> 8);
        bytes[3] = (byte)data.Length;
        data.CopyTo(bytes.AsSpan(4));
        return bytes;
    }
}
