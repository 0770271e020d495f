using System.Buffers.Binary;
using System.Text;
using Engine.Ice;
using Engine.Ice.Turn;

namespace Engine.Fuzz.Targets;

/// <summary>
/// The TURN server core with a live allocation (authenticated Allocate, a permission and channel
/// 0x4000 for one peer, all made before each input). The first byte picks what the rest is: a raw
/// client datagram (STUN or ChannelData), a request whose attributes come from the input and which
/// is then signed with the allocation's credentials and nonce (so the input reaches the methods past
/// authentication), or a datagram from a peer to the relayed address. Two more modes run over a TCP
/// allocation (RFC 6062) with one peer connection waiting for its ConnectionBind: a signed request
/// with fuzzed attributes on the control connection (Connect, ConnectionBind, ...), or a signed
/// ConnectionBind on a new data connection, with or without the real CONNECTION-ID ahead of the
/// fuzzed attributes. Timers then run. Whatever the server sends must be a well-formed STUN message
/// or ChannelData, and nothing may outlive its allocation.
/// </summary>
public sealed class TurnTarget : FuzzTarget
{
    private const string User = "alice", Password = "alice-pass", Realm = "example.org";
    private static readonly NetAddress ClientAddress = NetAddress.FromIPv4(0xC6336401, 40000);  // 198.51.100.1
    private static readonly NetAddress ServerAddress = NetAddress.FromIPv4(0xC0000201, 3478);   // 192.0.2.1
    private static readonly NetAddress PeerAddress = NetAddress.FromIPv4(0xCB007107, 50000);    // 203.0.113.7
    private static readonly StunMethod[] Methods =
        [StunMethod.Binding, StunMethod.Allocate, StunMethod.Refresh, StunMethod.Send, StunMethod.Data, StunMethod.CreatePermission, StunMethod.ChannelBind,
         StunMethod.Connect, StunMethod.ConnectionBind, StunMethod.ConnectionAttempt];
    private static readonly NetAddress DataAddress = NetAddress.FromIPv4(0xC6336401, 40001);    // 198.51.100.1, the data connection

    private readonly byte[] _output = new byte[2048];
    private readonly byte[] _message = new byte[2048];
    private readonly byte[] _key = new byte[16];
    private TurnServerOptions _options = null!;
    private byte[] _nonce = [];
    private NetAddress _relay;
    private string? _detail;

    public override string Name => "turn";
    public override string Description => "TURN server: raw client datagrams, signed requests with fuzzed attributes, peer datagrams, over a live allocation";
    public override int MaxLength => 1500;
    public override string[] DictionaryAssemblies => ["Engine.Ice"];
    public override string[] Tokens => ["\"\\x00\\x2a\\x00\\x04\"", "\"\\x00\\x19\\x00\\x04\\x06\\x00\\x00\\x00\"", "\"\\x21\\x12\\xa4\\x42\"", "\"\\x40\\x00\"", "\"\\x00\\x19\\x00\\x04\\x11\\x00\\x00\\x00\"", "\"\\x00\\x0c\\x00\\x04\\x40\\x00\\x00\\x00\"", "\"\\x00\\x12\\x00\\x08\"", "\"\\x00\\x0d\\x00\\x04\"", "\"\\x00\\x13\""];
    public override string? LastDetail => _detail;

    private sealed class Ports : IRelayPortAllocator
    {
        private ushort _next = 49152;
        public bool TryAllocate(bool ipv6, bool evenPort, out NetAddress relayAddress)
        {
            relayAddress = ipv6 ? default : NetAddress.FromIPv4(0xC0000201, _next);
            _next += 2;
            return !ipv6;
        }

        public void Release(in NetAddress relayAddress) { }
    }

    /// <summary>The host's TCP side, as a fake: it remembers the last Connect so the target can answer it.</summary>
    private sealed class Tcp : ITurnTcpRelay
    {
        private ushort _next = 50000;
        public uint LastConnect;
        public int Listeners;

        public bool TryListen(bool ipv6, out NetAddress relayAddress)
        {
            relayAddress = ipv6 ? default : NetAddress.FromIPv4(0xC0000201, _next++);
            if (!ipv6)
                Listeners++;
            return !ipv6;
        }

        public void CloseListener(in NetAddress relayAddress) => Listeners--;
        public void Connect(uint connectionId, in NetAddress relayAddress, in NetAddress peer) => LastConnect = connectionId;
        public void Splice(uint connectionId, in TurnFiveTuple dataConnection) { }
        public void Close(uint connectionId) { }
    }

    public override void Setup()
    {
        _options = new TurnServerOptions { Realm = Realm, NonceSecret = Encoding.ASCII.GetBytes("fuzz-nonce-secret") };
        _options.Users[User] = Password;
        _options.AllowedPeerRanges.Add(TurnIpRange.Parse("203.0.113.0/24"));
        StunLongTermCredential.TryComputeKey(User, Realm, Password, _key);
    }

    public override bool Run(Span<byte> input)
    {
        const long now = 1_700_000_000L * 1_000_000;
        if (input.Length == 0)
            return false;
        var tcp = new Tcp();
        var server = new TurnServer(_options, new Ports(), tcp);
        bool tcpMode = input[0] % 5 >= 3;
        var tuple = new TurnFiveTuple(tcpMode ? TurnTransport.Tcp : TurnTransport.Udp, ClientAddress, ServerAddress);
        uint pending = tcpMode ? EstablishTcp(server, tcp, tuple, now) : Establish(server, tuple, now);
        var rest = input[1..];
        TurnAction action;
        switch (input[0] % 5)
        {
            case 0:
                action = server.HandleClientMessage(rest, tuple, now + 1_000, _output, out int n0, out _, out _);
                Check(action, n0);
                break;
            case 1:
                int length = Signed(Methods[input[0] / 5 % Methods.Length], rest, _nonce);
                action = server.HandleClientMessage(_message.AsSpan(0, length), tuple, now + 1_000, _output, out int n1, out _, out _);
                Check(action, n1);
                break;
            case 2:
                action = server.HandlePeerDatagram(_relay, PeerAddress, rest, now + 1_000, _output, out int n2, out _);
                Check(action, n2);
                break;
            case 3:
            {
                int l3 = Signed(Methods[input[0] / 5 % Methods.Length], rest, _nonce);
                action = server.HandleClientMessage(_message.AsSpan(0, l3), tuple, now + 1_000, _output, out int n3, out _, out _);
                Check(action, n3);
                // A Connect the core accepted: the host's outcome, success or failure by the input.
                if (action == TurnAction.None && tcp.LastConnect != 0 && tcp.LastConnect != pending)
                    Check(server.HandlePeerConnectResult(tcp.LastConnect, (input[0] & 0x80) != 0, now + 2_000, _output, out int r3, out _), r3);
                break;
            }
            default:
            {
                // A new data connection: challenged first (its nonce is its own), then a signed ConnectionBind.
                var data = new TurnFiveTuple(TurnTransport.Tcp, DataAddress, ServerAddress);
                var probe = new StunMessageWriter(_message, StunMethod.ConnectionBind, StunClass.Request, stackalloc byte[12]);
                server.HandleClientMessage(_message.AsSpan(0, probe.Length), data, now, _output, out int pn, out _, out _);
                byte[] dataNonce = StunMessageView.TryRead(_output.AsSpan(0, pn), out var challenge) && challenge.TryGetNonce(out var dn) ? dn.ToArray() : [];
                int l4 = Signed(StunMethod.ConnectionBind, rest, dataNonce, (input[0] & 0x80) != 0 ? pending : 0);
                action = server.HandleClientMessage(_message.AsSpan(0, l4), data, now + 1_000, _output, out int n4, out _, out _);
                Check(action, n4);
                if (server.IsTcpDataConnection(data) && (input[0] & 0x40) != 0)
                    server.CloseConnection(data);
                break;
            }
        }
        // Timers at a permission's and an allocation's end must leave the table consistent.
        server.HandleTimeout(now + 301_000_000);
        server.HandleTimeout(now + 3_700_000_000);
        if (server.AllocationCount != 0)
            throw new InvalidOperationException($"{server.AllocationCount} allocations outlived their lifetime");
        if (server.TcpConnectionCount != 0 || server.Counters.TcpConnections != 0 || tcp.Listeners != 0)
            throw new InvalidOperationException($"{server.TcpConnectionCount} TCP connections or {tcp.Listeners} listeners outlived their allocation");
        _detail = action.ToString();
        return action != TurnAction.None;
    }

    /// <summary>A TCP allocation with a permission for the peer and one Connect answered: returns its CONNECTION-ID, waiting for a bind.</summary>
    private uint EstablishTcp(TurnServer server, Tcp tcp, in TurnFiveTuple tuple, long now)
    {
        var w = new StunMessageWriter(_message, StunMethod.Allocate, StunClass.Request, stackalloc byte[12]);
        w.AddRequestedTransport(6);
        server.HandleClientMessage(_message.AsSpan(0, w.Length), tuple, now, _output, out int n, out _, out _);
        if (!StunMessageView.TryRead(_output.AsSpan(0, n), out var challenge) || !challenge.TryGetNonce(out var nonce))
            throw new InvalidOperationException("no nonce in the first Allocate's answer");
        _nonce = nonce.ToArray();
        Expect(server, tuple, now, StunMethod.Allocate, (ref StunMessageWriter m) => m.AddRequestedTransport(6), out var allocated);
        if (!allocated.TryGetXorRelayedAddress(out _relay))
            throw new InvalidOperationException("no relayed address");
        Expect(server, tuple, now, StunMethod.CreatePermission, (ref StunMessageWriter m) => m.AddXorPeerAddress(PeerAddress), out _);
        var c = new StunMessageWriter(_message, StunMethod.Connect, StunClass.Request, stackalloc byte[12] { 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 });
        c.AddXorPeerAddress(PeerAddress);
        int length = Sign(ref c, _nonce);
        if (server.HandleClientMessage(_message.AsSpan(0, length), tuple, now, _output, out _, out _, out _) != TurnAction.None || tcp.LastConnect == 0)
            throw new InvalidOperationException("set-up Connect was not passed to the host");
        uint id = tcp.LastConnect;
        if (server.HandlePeerConnectResult(id, true, now, _output, out _, out _) != TurnAction.ToClient)
            throw new InvalidOperationException("set-up Connect was not answered");
        return id;
    }

    private uint Establish(TurnServer server, in TurnFiveTuple tuple, long now)
    {
        // The first Allocate is refused with 401 and a nonce (RFC 8489 §9.2.4).
        var w = new StunMessageWriter(_message, StunMethod.Allocate, StunClass.Request, stackalloc byte[12]);
        w.AddRequestedTransport(17);
        w.AddFingerprint();
        server.HandleClientMessage(_message.AsSpan(0, w.Length), tuple, now, _output, out int n, out _, out _);
        if (!StunMessageView.TryRead(_output.AsSpan(0, n), out var challenge) || !challenge.TryGetNonce(out var nonce))
            throw new InvalidOperationException("no nonce in the first Allocate's answer");
        _nonce = nonce.ToArray();
        Expect(server, tuple, now, StunMethod.Allocate, (ref StunMessageWriter m) => m.AddRequestedTransport(17), out var allocated);
        if (!allocated.TryGetXorRelayedAddress(out _relay))
            throw new InvalidOperationException("no relayed address");
        Expect(server, tuple, now, StunMethod.CreatePermission, (ref StunMessageWriter m) => m.AddXorPeerAddress(PeerAddress), out _);
        Expect(server, tuple, now, StunMethod.ChannelBind, (ref StunMessageWriter m) =>
        {
            m.AddChannelNumber(0x4000);
            m.AddXorPeerAddress(PeerAddress);
        }, out _);
        return 0;
    }

    private delegate void Attributes(ref StunMessageWriter w);

    private void Expect(TurnServer server, in TurnFiveTuple tuple, long now, StunMethod method, Attributes attributes, out StunMessageView answer)
    {
        var w = new StunMessageWriter(_message, method, StunClass.Request, stackalloc byte[12] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, (byte)method });
        attributes(ref w);
        int length = Sign(ref w, _nonce);
        server.HandleClientMessage(_message.AsSpan(0, length), tuple, now, _output, out int n, out _, out _);
        if (!StunMessageView.TryRead(_output.AsSpan(0, n), out answer) || answer.Class != StunClass.SuccessResponse)
            throw new InvalidOperationException($"set-up {method} failed");
    }

    /// <summary>A request of <paramref name="method"/> whose attributes are the input's (2-byte type, 1-byte length, value), signed.</summary>
    private int Signed(StunMethod method, ReadOnlySpan<byte> tlv, byte[] nonce, uint connectionId = 0)
    {
        var w = new StunMessageWriter(_message, method, method is StunMethod.Send or StunMethod.Data or StunMethod.ConnectionAttempt ? StunClass.Indication : StunClass.Request, stackalloc byte[12]);
        if (connectionId != 0)
        {
            Span<byte> id = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(id, connectionId);
            w.AddAttribute(StunAttributeType.ConnectionId, id);
        }
        for (int i = 0; i + 3 <= tlv.Length && !w.Failed;)
        {
            var type = (StunAttributeType)BinaryPrimitives.ReadUInt16BigEndian(tlv[i..]);
            int len = Math.Min(tlv[i + 2], tlv.Length - i - 3);
            if (type is StunAttributeType.MessageIntegrity or StunAttributeType.Fingerprint or StunAttributeType.MessageIntegritySha256)
                break;
            w.AddAttribute(type, tlv.Slice(i + 3, len));
            i += 3 + len;
        }
        return Sign(ref w, nonce);
    }

    private int Sign(ref StunMessageWriter w, byte[] nonce)
    {
        w.AddText(StunAttributeType.Username, User);
        w.AddText(StunAttributeType.Realm, Realm);
        w.AddAttribute(StunAttributeType.Nonce, nonce);
        w.AddMessageIntegrity(_key);
        w.AddFingerprint();
        return w.Failed ? 0 : w.Length;
    }

    private void Check(TurnAction action, int length)
    {
        if (action == TurnAction.None)
        {
            if (length != 0)
                throw new InvalidOperationException($"nothing to send, but {length} bytes written");
            return;
        }
        // An empty UDP datagram to a peer is legal (ChannelData of length 0); nothing to a client is empty.
        if (length < (action == TurnAction.ToPeer ? 0 : 4) || length > _output.Length)
            throw new InvalidOperationException($"{action} with length {length}");
        var sent = _output.AsSpan(0, length);
        if (action == TurnAction.ToPeer)
            return; // a peer gets the client's bytes as they are
        if ((sent[0] & 0xC0) == 0x40)
        {
            // ChannelData (RFC 8656 §12.4): a bound channel and a length that fits.
            if (length < 4 || BinaryPrimitives.ReadUInt16BigEndian(sent) != 0x4000 || BinaryPrimitives.ReadUInt16BigEndian(sent[2..]) + 4 > length)
                throw new InvalidOperationException("malformed ChannelData to the client");
            return;
        }
        if (!StunMessageView.TryRead(sent, out var m))
            throw new InvalidOperationException("the server's own message does not parse");
        if (m.HasFingerprint && !m.VerifyFingerprint())
            throw new InvalidOperationException("the server's own message has a wrong FINGERPRINT");
    }
}
