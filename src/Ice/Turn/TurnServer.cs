using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Engine.Ice.Turn;

/// <summary>
/// A sans-IO TURN server (RFC 8656, IPv6 per RFC 6156 as folded into RFC 8656) with a STUN
/// Binding responder (RFC 8489). The host hands it client messages (one datagram, or one frame of
/// a TCP/TLS stream) and datagrams that arrived on relayed addresses; it answers with bytes to send
/// and where. Relayed ports come from an <see cref="IRelayPortAllocator"/>, which is how the host
/// learns to open and close sockets. Single-threaded; the relay paths allocate nothing, and bad
/// input is counted in <see cref="Counters"/>, never thrown.
/// </summary>
public sealed class TurnServer
{
    private const long Micros = 1_000_000;
    // Sweeps run at most this often: expiry is checked exactly on every packet, so a sweep only
    // frees memory and ports, and per-second batching keeps many allocations from costing O(n²).
    private const long SweepIntervalMicros = Micros;
    // RFC 8656 §12: after a binding expires, neither its number nor its peer may be bound to another for 5 minutes.
    private const long ChannelCooldownMicros = 300 * Micros;
    // RFC 8656 §7.2: a port reserved by EVEN-PORT with R is held at least 30 seconds.
    private const long ReservationMicros = 30 * Micros;
    private const byte UdpProtocol = 17; // RFC 8656 §18.8
    private const byte TcpProtocol = 6;  // RFC 6062 §5.1
    // RFC 6062 §5.2, §5.3: a peer connection not bound by a ConnectionBind within 30 s is closed.
    private const long TcpBindMicros = 30 * Micros;
    private const int NonceLength = 40;  // 16 hex digits of expiry, 24 of MAC
    private const int NonceMacInputLength = 8 + 16 + 2 + 1;
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private readonly TurnServerOptions _options;
    private readonly IRelayPortAllocator _ports;
    private readonly byte[] _realmUtf8;
    private readonly byte[]? _softwareUtf8;
    private readonly Dictionary<string, byte[]> _staticKeys = new(StringComparer.Ordinal);
    private readonly byte[]? _sharedSecret;
    private readonly StunMessageIntegrityKey _nonceKey;
    private readonly TurnIpRange[] _allowed;
    private readonly TurnIpRange[] _denied;
    private readonly HashSet<NetAddress> _exactAllowed = new();
    private readonly Dictionary<TurnFiveTuple, TurnAllocation> _byFiveTuple = new();
    private readonly Dictionary<NetAddress, TurnAllocation> _byRelay = new();
    private readonly Dictionary<string, int> _allocationsPerUser = new(StringComparer.Ordinal);
    private readonly TurnReservations _reservations = new();
    private readonly ITurnTcpRelay? _tcp;
    private readonly Dictionary<uint, TurnTcpConnection> _tcpById = new();
    private readonly Dictionary<TurnFiveTuple, TurnTcpConnection> _tcpByData = new();
    private long _nextTimeoutMicros = long.MaxValue;
    private long _unauthenticatedTokens = -1;
    private long _unauthenticatedAtMicros;
    private ulong _transactionIdState;

    /// <param name="tcpRelay">The host's TCP side for RFC 6062 allocations; null answers REQUESTED-TRANSPORT TCP with 442.</param>
    public TurnServer(TurnServerOptions options, IRelayPortAllocator relayPorts, ITurnTcpRelay? tcpRelay = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(relayPorts);
        _options = options;
        _ports = relayPorts;
        _tcp = tcpRelay;
        _realmUtf8 = Encoding.UTF8.GetBytes(options.Realm);
        _softwareUtf8 = options.Software is null ? null : Encoding.UTF8.GetBytes(options.Software);
        foreach (var (user, secret) in options.Users)
        {
            byte[] key = new byte[StunLongTermCredential.KeyLength];
            if (secret.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && secret.Length == 2 + 2 * StunLongTermCredential.KeyLength)
                key = Convert.FromHexString(secret.AsSpan(2));
            else
                StunLongTermCredential.TryComputeKey(user, options.Realm, secret, key);
            _staticKeys[user] = key;
        }
        _sharedSecret = options.SharedSecret is null ? null : Encoding.UTF8.GetBytes(options.SharedSecret);
        _nonceKey = StunMessageIntegrityKey.Create(options.NonceSecret ?? RandomNumberGenerator.GetBytes(20));
        _allowed = options.AllowedPeerRanges.ToArray();
        _denied = options.DeniedPeerRanges.ToArray();
        foreach (var address in options.AllowedPeerAddresses)
            _exactAllowed.Add(address.UnmapIPv4());
        UnixEpochOffsetMicros = options.UnixEpochOffsetMicros;
        Span<byte> seed = stackalloc byte[8];
        RandomNumberGenerator.Fill(seed);
        _transactionIdState = BinaryPrimitives.ReadUInt64LittleEndian(seed) | 1;
    }

    public TurnCounters Counters { get; } = new();

    /// <summary>Added to nowMicros to get Unix microseconds (REST usernames carry a Unix expiry).</summary>
    public long UnixEpochOffsetMicros { get; set; }

    public int AllocationCount => _byFiveTuple.Count;

    /// <summary>Relayed ports held for a RESERVATION-TOKEN not yet claimed (RFC 8656 §7.2).</summary>
    public int ReservationCount => _reservations.Count;

    /// <summary>Whether this 5-tuple holds an allocation that has not expired (the host closes idle TCP/TLS clients without one).</summary>
    public bool HasAllocation(in TurnFiveTuple client, long nowMicros) =>
        _byFiveTuple.TryGetValue(client, out var a) && a.ExpiresMicros > nowMicros;

    /// <summary>Whether this 5-tuple is a client data connection bound to a peer (RFC 6062 §5.4): it carries no allocation of its own.</summary>
    public bool IsTcpDataConnection(in TurnFiveTuple client) => _tcpByData.ContainsKey(client);

    /// <summary>The CONNECTION-ID a client data connection is bound to.</summary>
    public bool TryGetTcpConnectionId(in TurnFiveTuple dataConnection, out uint connectionId)
    {
        connectionId = 0;
        if (!_tcpByData.TryGetValue(dataConnection, out var c))
            return false;
        connectionId = c.Id;
        return true;
    }

    /// <summary>Peer connections of TCP allocations held now (connecting, pending or spliced).</summary>
    public int TcpConnectionCount => _tcpById.Count;

    /// <summary>
    /// When <see cref="HandleTimeout"/> wants to run (at most once a second after a sweep); long.MaxValue
    /// when idle. Lifetimes are enforced on every message regardless.
    /// </summary>
    public long NextTimeoutMicros => _nextTimeoutMicros;

    /// <summary>Whether the peer may be relayed to, after unmapping IPv4-mapped IPv6.</summary>
    public bool IsPeerAllowed(in NetAddress peer) =>
        TurnPeerPolicy.IsAllowed(peer, _allowed, _denied) || _exactAllowed.Count > 0 && _exactAllowed.Contains(peer.UnmapIPv4());

    /// <summary>
    /// One message from a client: a STUN request or indication, or ChannelData (RFC 8656 §12.4).
    /// ToClient: the output is the answer for the same 5-tuple. ToPeer: the output is a payload to
    /// send from <paramref name="relayAddress"/> to <paramref name="peerAddress"/>.
    /// </summary>
    public TurnAction HandleClientMessage(ReadOnlySpan<byte> datagram, in TurnFiveTuple client, long nowMicros, Span<byte> output,
        out int outputLength, out NetAddress relayAddress, out NetAddress peerAddress)
    {
        outputLength = 0;
        relayAddress = default;
        peerAddress = default;
        // RFC 8656 §12: ChannelData starts 0b01 (channel 0x4000-0x7FFF); STUN starts 0b00.
        if (datagram.Length >= 4 && (datagram[0] & 0xC0) == 0x40)
            return HandleChannelData(datagram, client, nowMicros, output, out outputLength, out relayAddress, out peerAddress);
        if (!StunMessageView.TryRead(datagram, out var m))
            return Drop(TurnDropReason.Malformed);
        if (m.HasFingerprint && !m.VerifyFingerprint())
            return Drop(TurnDropReason.BadFingerprint);

        if (m.Class == StunClass.Indication)
        {
            if (m.Method == StunMethod.Send)
                return HandleSend(m, client, nowMicros, output, out outputLength, out relayAddress, out peerAddress);
            if (m.Method == StunMethod.Binding)
                return TurnAction.None; // a keepalive (RFC 8489 §6.3.2)
            return Drop(TurnDropReason.NotARequest);
        }
        if (m.Class != StunClass.Request)
            return Drop(TurnDropReason.NotARequest);

        switch (m.Method)
        {
            case StunMethod.Binding:
                return AnswerBinding(m, client, nowMicros, output, out outputLength);
            case StunMethod.Allocate:
            case StunMethod.Refresh:
            case StunMethod.CreatePermission:
            case StunMethod.ChannelBind:
                return HandleTurnRequest(m, client, nowMicros, output, out outputLength);
            case StunMethod.Connect or StunMethod.ConnectionBind when _tcp is not null:
                return HandleTurnRequest(m, client, nowMicros, output, out outputLength);
            default:
                // RFC 8489 §6.3.1: a request for an unknown method gets 400.
                return UnauthenticatedError(m, client, nowMicros, StunErrorCode.BadRequest, challenge: false, output, out outputLength);
        }
    }

    /// <summary>
    /// A datagram that arrived on a relayed address from a peer (RFC 8656 §10.3, §12.6): with a
    /// permission it goes to the client as ChannelData when a channel is bound, else as a Data
    /// indication. <paramref name="relayAddress"/> is the address the allocator handed out, exactly.
    /// </summary>
    public TurnAction HandlePeerDatagram(in NetAddress relayAddress, in NetAddress peerAddress, ReadOnlySpan<byte> data, long nowMicros,
        Span<byte> output, out int outputLength, out TurnFiveTuple client)
    {
        outputLength = 0;
        client = default;
        if (!_byRelay.TryGetValue(relayAddress, out var a) || a.ExpiresMicros <= nowMicros)
            return Drop(TurnDropReason.NoAllocation);
        var peer = peerAddress.UnmapIPv4();
        if (!HasPermission(a, peer, nowMicros))
            return Drop(TurnDropReason.NoPermission);
        // A permission for an exact-address exception covers that port only.
        if (a.ExactPeerException && !IsPeerAllowed(peer))
            return Drop(TurnDropReason.ForbiddenPeer);
        if (!TrySpend(a, data.Length, nowMicros))
            return Drop(TurnDropReason.BandwidthExceeded);
        client = a.FiveTuple;

        if (a.ChannelByPeer.TryGetValue(peer, out ushort channel) && a.Channels.TryGetValue(channel, out var binding)
            && binding.ExpiresMicros > nowMicros && data.Length <= 0xFFFF)
        {
            // RFC 8656 §12.5: over TCP/TLS the message is padded to a multiple of 4.
            int length = 4 + data.Length;
            int framed = client.IsStream ? (length + 3) & ~3 : length;
            if (output.Length < framed)
                return Drop(TurnDropReason.OutputTooSmall);
            BinaryPrimitives.WriteUInt16BigEndian(output, channel);
            BinaryPrimitives.WriteUInt16BigEndian(output[2..], (ushort)data.Length);
            data.CopyTo(output[4..]);
            output[length..framed].Clear();
            outputLength = framed;
        }
        else
        {
            Span<byte> transactionId = stackalloc byte[12];
            NextTransactionId(transactionId);
            var w = new StunMessageWriter(output, StunMethod.Data, StunClass.Indication, transactionId);
            w.AddXorPeerAddress(peer);
            w.AddAttribute(StunAttributeType.Data, data);
            if (w.Failed)
                return Drop(TurnDropReason.OutputTooSmall);
            outputLength = w.Length;
        }
        Counters.PacketsToClient++;
        Counters.BytesToClient += data.Length;
        return TurnAction.ToClient;
    }

    /// <summary>
    /// The client's TCP/TLS connection closed: its allocation ends with it (RFC 8656 §3.1, the
    /// 5-tuple is gone) and the relayed ports go back to the allocator. False when it had none.
    /// </summary>
    public bool CloseConnection(in TurnFiveTuple client)
    {
        if (_tcpByData.TryGetValue(client, out var data))
        {
            // A client data connection: its peer connection ends with it (RFC 6062 §5.5).
            RemoveTcp(data, closeInHost: true);
            return true;
        }
        if (!_byFiveTuple.TryGetValue(client, out var a))
            return false;
        Delete(a);
        return true;
    }

    /// <summary>
    /// The host's outcome of <see cref="ITurnTcpRelay.Connect"/>: ToClient is the Connect response for
    /// <paramref name="client"/>'s control connection (success with CONNECTION-ID, or 447, RFC 6062 §5.2).
    /// None: the connection is no longer wanted (its allocation ended) and the host closes what it opened.
    /// </summary>
    public TurnAction HandlePeerConnectResult(uint connectionId, bool connected, long nowMicros, Span<byte> output, out int outputLength, out TurnFiveTuple client)
    {
        outputLength = 0;
        client = default;
        if (!_tcpById.TryGetValue(connectionId, out var c) || c.State != TurnTcpConnection.Phase.Connecting)
            return TurnAction.None;
        var a = c.Allocation;
        if (a.ExpiresMicros <= nowMicros)
        {
            Delete(a);
            return TurnAction.None;
        }
        client = a.FiveTuple;
        if (!connected)
        {
            RemoveTcp(c, closeInHost: false);
            Counters.TcpConnectsFailed++;
            var e = new StunMessageWriter(output, StunMethod.Connect, StunClass.ErrorResponse, c.ConnectTransactionId);
            e.AddErrorCode(StunErrorCode.ConnectionTimeoutOrFailure, Reason(StunErrorCode.ConnectionTimeoutOrFailure));
            Counters.ErrorResponses++;
            return FinishLate(ref e, a.Key, c.ConnectFingerprint, out outputLength);
        }
        c.State = TurnTcpConnection.Phase.Pending;
        c.BindDeadlineMicros = nowMicros + TcpBindMicros;
        Schedule(c.BindDeadlineMicros);
        Counters.TcpConnectsSucceeded++;
        // RFC 6062 §5.2: the peer's permission is added or refreshed (up to the cap, as CreatePermission).
        if (a.Permissions.ContainsKey(c.Peer.WithPort(0)) || a.Permissions.Count < _options.MaxPermissionsPerAllocation)
            SetPermission(a, c.Peer, nowMicros + _options.PermissionLifetimeSeconds * Micros);
        var w = new StunMessageWriter(output, StunMethod.Connect, StunClass.SuccessResponse, c.ConnectTransactionId);
        AddConnectionId(ref w, c.Id);
        return FinishLate(ref w, a.Key, c.ConnectFingerprint, out outputLength);
    }

    /// <summary>
    /// A peer connected to a TCP allocation's relayed address (RFC 6062 §5.3). With a permission for its
    /// IP: ToClient is a ConnectionAttempt indication for <paramref name="client"/>'s control connection and
    /// the peer waits under <paramref name="connectionId"/> for a ConnectionBind. None: dropped and
    /// counted; the host closes the connection.
    /// </summary>
    public TurnAction HandlePeerConnectionAccepted(in NetAddress relayAddress, in NetAddress peerAddress, long nowMicros, Span<byte> output,
        out int outputLength, out TurnFiveTuple client, out uint connectionId)
    {
        outputLength = 0;
        client = default;
        connectionId = 0;
        if (!_byRelay.TryGetValue(relayAddress, out var a) || !a.IsTcp || a.ExpiresMicros <= nowMicros)
            return Drop(TurnDropReason.NoAllocation);
        var peer = peerAddress.UnmapIPv4();
        if (!HasPermission(a, peer, nowMicros))
            return Drop(TurnDropReason.NoPermission);
        if (a.ExactPeerException && !IsPeerAllowed(peer))
            return Drop(TurnDropReason.ForbiddenPeer);
        if (a.TcpConnections!.Count >= _options.MaxTcpConnectionsPerAllocation)
            return Drop(TurnDropReason.TcpConnectionLimit);
        Span<byte> transactionId = stackalloc byte[12];
        NextTransactionId(transactionId);
        var w = new StunMessageWriter(output, StunMethod.ConnectionAttempt, StunClass.Indication, transactionId);
        var c = AddTcp(a, peer, TurnTcpConnection.Phase.Pending);
        AddConnectionId(ref w, c.Id);
        w.AddXorPeerAddress(peer);
        if (_softwareUtf8 is not null)
            w.AddAttribute(StunAttributeType.Software, _softwareUtf8);
        if (w.Failed)
        {
            RemoveTcp(c, closeInHost: false);
            return Drop(TurnDropReason.OutputTooSmall);
        }
        c.BindDeadlineMicros = nowMicros + TcpBindMicros;
        Schedule(c.BindDeadlineMicros);
        Counters.TcpConnectionAttempts++;
        client = a.FiveTuple;
        connectionId = c.Id;
        outputLength = w.Length;
        return TurnAction.ToClient;
    }

    /// <summary>The host saw this peer connection end (closed, reset, or its splice ended): the core forgets it.</summary>
    public void HandleTcpConnectionClosed(uint connectionId)
    {
        if (_tcpById.TryGetValue(connectionId, out var c))
            RemoveTcp(c, closeInHost: false);
    }

    /// <summary>Expires allocations (their relayed ports go back to the allocator), permissions and channels.</summary>
    public void HandleTimeout(long nowMicros)
    {
        long next = long.MaxValue;
        // Dictionary.Remove during enumeration is allowed (.NET Core 3.0+).
        foreach (var a in _byFiveTuple.Values)
        {
            if (a.ExpiresMicros <= nowMicros)
            {
                Delete(a);
                continue;
            }
            next = Math.Min(next, a.ExpiresMicros);
            foreach (var (ip, expires) in a.Permissions)
            {
                if (expires <= nowMicros)
                {
                    a.Permissions.Remove(ip);
                    Counters.Permissions--;
                }
                else
                {
                    next = Math.Min(next, expires);
                }
            }
            foreach (var (number, binding) in a.Channels)
            {
                if (binding.ExpiresMicros + ChannelCooldownMicros <= nowMicros)
                {
                    a.Channels.Remove(number);
                    a.ChannelByPeer.Remove(binding.Peer);
                    if (binding.Counted)
                        Counters.Channels--;
                }
                else if (binding.ExpiresMicros <= nowMicros)
                {
                    if (binding.Counted)
                    {
                        Counters.Channels--;
                        a.Channels[number] = binding with { Counted = false };
                    }
                    next = Math.Min(next, binding.ExpiresMicros + ChannelCooldownMicros);
                }
                else
                {
                    next = Math.Min(next, binding.ExpiresMicros);
                }
            }
        }
        foreach (var c in _tcpById.Values)
        {
            if (c.State != TurnTcpConnection.Phase.Pending)
                continue;
            if (c.BindDeadlineMicros <= nowMicros)
            {
                RemoveTcp(c, closeInHost: true);
                Counters.TcpBindTimeouts++;
            }
            else
            {
                next = Math.Min(next, c.BindDeadlineMicros);
            }
        }
        if (_reservations.Count > 0)
            next = Math.Min(next, _reservations.Expire(nowMicros, _ports));
        _nextTimeoutMicros = next == long.MaxValue ? long.MaxValue : Math.Max(next, nowMicros + SweepIntervalMicros);
    }

    // ---- client paths ----

    private TurnAction HandleChannelData(ReadOnlySpan<byte> datagram, in TurnFiveTuple client, long nowMicros, Span<byte> output,
        out int outputLength, out NetAddress relayAddress, out NetAddress peerAddress)
    {
        outputLength = 0;
        relayAddress = default;
        peerAddress = default;
        ushort channel = BinaryPrimitives.ReadUInt16BigEndian(datagram);
        int length = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        // RFC 8656 §12.4: too short for its length is discarded; 0x5000-0x7FFF are reserved.
        if (channel > _options.MaxChannelNumber || datagram.Length - 4 < length)
            return Drop(TurnDropReason.Malformed);
        if (!_byFiveTuple.TryGetValue(client, out var a) || a.ExpiresMicros <= nowMicros)
            return Drop(TurnDropReason.NoAllocation);
        if (!a.Channels.TryGetValue(channel, out var binding) || binding.ExpiresMicros <= nowMicros)
            return Drop(TurnDropReason.NoChannel);
        if (!HasPermission(a, binding.Peer, nowMicros))
            return Drop(TurnDropReason.NoPermission);
        if (!a.TryGetRelay(binding.Peer.IsIPv6, out relayAddress))
            return Drop(TurnDropReason.PeerFamilyMismatch);
        if (!TrySpend(a, length, nowMicros))
            return Drop(TurnDropReason.BandwidthExceeded);
        if (output.Length < length)
            return Drop(TurnDropReason.OutputTooSmall);
        datagram.Slice(4, length).CopyTo(output);
        outputLength = length;
        peerAddress = binding.Peer;
        Counters.PacketsToPeer++;
        Counters.BytesToPeer += length;
        return TurnAction.ToPeer;
    }

    // RFC 8656 §10.2
    private TurnAction HandleSend(in StunMessageView m, in TurnFiveTuple client, long nowMicros, Span<byte> output,
        out int outputLength, out NetAddress relayAddress, out NetAddress peerAddress)
    {
        outputLength = 0;
        relayAddress = default;
        peerAddress = default;
        if (!_byFiveTuple.TryGetValue(client, out var a) || a.ExpiresMicros <= nowMicros)
            return Drop(TurnDropReason.NoAllocation);
        if (a.IsTcp)
            return Drop(TurnDropReason.TcpAllocation); // RFC 6062 §5: data goes over data connections
        if (!m.TryGetXorPeerAddress(out var peer) || !m.TryGetData(out var data))
            return Drop(TurnDropReason.Malformed);
        peer = peer.UnmapIPv4();
        if (peer.Port == 0)
            return Drop(TurnDropReason.Malformed);
        if (!a.TryGetRelay(peer.IsIPv6, out relayAddress))
            return Drop(TurnDropReason.PeerFamilyMismatch);
        if (!IsPeerAllowed(peer))
            return Drop(TurnDropReason.ForbiddenPeer);
        if (!HasPermission(a, peer, nowMicros))
            return Drop(TurnDropReason.NoPermission);
        if (!TrySpend(a, data.Length, nowMicros))
            return Drop(TurnDropReason.BandwidthExceeded);
        if (output.Length < data.Length)
            return Drop(TurnDropReason.OutputTooSmall);
        data.CopyTo(output);
        outputLength = data.Length;
        peerAddress = peer;
        Counters.PacketsToPeer++;
        Counters.BytesToPeer += data.Length;
        return TurnAction.ToPeer;
    }

    private TurnAction AnswerBinding(in StunMessageView m, in TurnFiveTuple client, long nowMicros, Span<byte> output, out int outputLength)
    {
        outputLength = 0;
        if (!TrySpendUnauthenticated(nowMicros))
            return Drop(TurnDropReason.RateLimited);
        Span<StunAttributeType> unknown = stackalloc StunAttributeType[8];
        int unknownCount = Math.Min(m.GetUnknownComprehensionRequired(unknown), unknown.Length);
        if (unknownCount > 0)
        {
            // RFC 8489 §6.3.1.1
            var e = new StunMessageWriter(output, StunMethod.Binding, StunClass.ErrorResponse, m.TransactionId);
            e.AddErrorCode(StunErrorCode.UnknownAttribute, Reason(StunErrorCode.UnknownAttribute));
            e.AddUnknownAttributes(unknown[..unknownCount]);
            Counters.ErrorResponses++;
            return Finish(ref e, m, sign: false, default, out outputLength);
        }
        var w = new StunMessageWriter(output, StunMethod.Binding, StunClass.SuccessResponse, m.TransactionId);
        w.AddXorMappedAddress(client.Client);
        return Finish(ref w, m, sign: false, default, out outputLength);
    }

    private TurnAction HandleTurnRequest(in StunMessageView m, in TurnFiveTuple client, long nowMicros, Span<byte> output, out int outputLength)
    {
        outputLength = 0;
        if (_byFiveTuple.TryGetValue(client, out var existing) && existing.ExpiresMicros <= nowMicros)
        {
            Delete(existing); // expired before the timer ran
            existing = null;
        }

        var auth = Authenticate(m, client, nowMicros, existing, out var key, out var username, out var usernameUtf8, out long restExpiry);
        switch (auth)
        {
            case AuthResult.Challenge:
                return UnauthenticatedError(m, client, nowMicros, StunErrorCode.Unauthorized, challenge: true, output, out outputLength);
            case AuthResult.Stale:
                return UnauthenticatedError(m, client, nowMicros, StunErrorCode.StaleNonce, challenge: true, output, out outputLength);
            case AuthResult.BadRequest:
                return UnauthenticatedError(m, client, nowMicros, StunErrorCode.BadRequest, challenge: false, output, out outputLength);
            case AuthResult.WrongCredentials:
                // RFC 8656 §5: an allocation belongs to the username that made it.
                return SignedError(m, StunErrorCode.WrongCredentials, key, output, out outputLength);
        }

        // RFC 8489 §6.3.1.1: unknown comprehension-required attributes → 420.
        Span<StunAttributeType> unknown = stackalloc StunAttributeType[8];
        int unknownCount = Math.Min(m.GetUnknownComprehensionRequired(unknown), unknown.Length);
        if (unknownCount > 0)
            return UnknownAttributes(m, unknown[..unknownCount], key, output, out outputLength);

        return m.Method switch
        {
            StunMethod.Allocate => HandleAllocate(m, client, nowMicros, existing, key, username!, usernameUtf8!, restExpiry, output, out outputLength),
            StunMethod.Refresh => HandleRefresh(m, nowMicros, existing, key, output, out outputLength),
            StunMethod.CreatePermission => HandleCreatePermission(m, nowMicros, existing, key, output, out outputLength),
            StunMethod.Connect => HandleConnect(m, nowMicros, existing, key, output, out outputLength),
            StunMethod.ConnectionBind => HandleConnectionBind(m, client, nowMicros, existing, key, usernameUtf8!, output, out outputLength),
            _ => HandleChannelBind(m, nowMicros, existing, key, output, out outputLength),
        };
    }

    // RFC 8656 §7.2
    private TurnAction HandleAllocate(in StunMessageView m, in TurnFiveTuple client, long nowMicros, TurnAllocation? existing,
        in StunMessageIntegrityKey key, string username, byte[] usernameUtf8, long restExpiry, Span<byte> output, out int outputLength)
    {
        if (existing is not null)
        {
            // A retransmitted Allocate gets the same success again; anything else is a mismatch.
            if (m.TransactionId.SequenceEqual(existing.AllocateTransactionId))
                return AllocateSuccess(m, existing, existing.GrantedLifetimeSeconds, key, output, out outputLength);
            return SignedError(m, StunErrorCode.AllocationMismatch, key, output, out outputLength);
        }
        if (!m.TryGetRequestedTransport(out byte protocol))
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        bool tcp = protocol == TcpProtocol && _tcp is not null;
        if (protocol != UdpProtocol && !tcp)
            return SignedError(m, StunErrorCode.UnsupportedTransportProtocol, key, output, out outputLength);
        // RFC 6062 §5.1: TCP only over TCP/TLS, and none of the UDP-only attributes; one family (no dual allocation here).
        if (tcp && (!client.IsStream || m.Has(StunAttributeType.DontFragment) || m.Has(StunAttributeType.EvenPort)
            || m.Has(StunAttributeType.ReservationToken) || m.Has(StunAttributeType.AdditionalAddressFamily)))
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        if (m.Has(StunAttributeType.DontFragment) && !_options.SupportsDontFragment)
        {
            // RFC 8656 §7.2: without DF support the attribute is treated as unknown.
            Span<StunAttributeType> df = stackalloc StunAttributeType[] { StunAttributeType.DontFragment };
            return UnknownAttributes(m, df, key, output, out outputLength);
        }
        bool dontFragment = m.Has(StunAttributeType.DontFragment);
        bool hasToken = m.TryGetAttribute(StunAttributeType.ReservationToken, out var token);
        bool hasEvenPort = m.TryGetAttribute(StunAttributeType.EvenPort, out var evenPort);
        bool hasFamily = m.TryGetAttribute(StunAttributeType.RequestedAddressFamily, out var family);
        bool hasAdditional = m.TryGetAttribute(StunAttributeType.AdditionalAddressFamily, out var additional);
        // RFC 8656 §7.2 steps 5 and 6.
        if (hasToken && (hasEvenPort || hasFamily || hasAdditional || token.Length != 8) || hasFamily && hasAdditional)
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        // An unknown, expired or already claimed token: 508 (§7.2 step 5).
        if (hasToken && !_reservations.IsValid(token, nowMicros))
            return SignedError(m, StunErrorCode.InsufficientCapacity, key, output, out outputLength);
        if (hasEvenPort && evenPort.Length != 1)
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        bool reserveNext = hasEvenPort && (evenPort[0] & 0x80) != 0;
        // §7.2 step 8: a reservation is for one family, so not with a dual allocation.
        if (reserveNext && hasAdditional)
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);

        bool primaryIPv6 = false, dual = false;
        if (hasFamily)
        {
            if (family.Length != 4)
                return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
            if (family[0] == 0x02)
                primaryIPv6 = true;
            else if (family[0] != 0x01)
                return SignedError(m, StunErrorCode.AddressFamilyNotSupported, key, output, out outputLength);
        }
        if (hasAdditional)
        {
            // RFC 8656 §7.2: ADDITIONAL-ADDRESS-FAMILY may only ask for IPv6.
            if (additional.Length != 4 || additional[0] != 0x02)
                return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
            dual = true;
        }

        var a = new TurnAllocation(client, username, usernameUtf8, key, restExpiry);
        _allocationsPerUser.TryGetValue(a.QuotaKey, out int userCount);
        if (_byFiveTuple.Count >= _options.MaxAllocations || userCount >= _options.MaxAllocationsPerUser)
            return SignedError(m, StunErrorCode.AllocationQuotaReached, key, output, out outputLength);

        NetAddress relay;
        if (tcp)
        {
            if (!_tcp!.TryListen(primaryIPv6, out relay))
                return SignedError(m, StunErrorCode.InsufficientCapacity, key, output, out outputLength);
            a.IsTcp = true;
            a.TcpConnections = new List<TurnTcpConnection>();
        }
        else if (hasToken)
        {
            // The reserved address, whatever family it is (REQUESTED-ADDRESS-FAMILY is refused with a token).
            _reservations.TryTake(token, nowMicros, out relay);
            primaryIPv6 = relay.IsIPv6;
        }
        else if (reserveNext)
        {
            if (!_ports.TryAllocatePair(primaryIPv6, out relay, out var reserved))
                return SignedError(m, StunErrorCode.InsufficientCapacity, key, output, out outputLength);
            long held = nowMicros + ReservationMicros;
            a.ReservationToken = _reservations.Add(reserved, held);
            Schedule(held);
        }
        else if (!_ports.TryAllocate(primaryIPv6, hasEvenPort, out relay))
        {
            return SignedError(m, primaryIPv6 ? StunErrorCode.AddressFamilyNotSupported : StunErrorCode.InsufficientCapacity, key, output, out outputLength);
        }
        if (primaryIPv6)
            a.Relay6 = relay;
        else
            a.Relay4 = relay;
        if (dual)
        {
            if (_ports.TryAllocate(true, hasEvenPort, out var relay6))
                a.Relay6 = relay6;
            else
                a.IPv6Refused = true; // reported in ADDRESS-ERROR-CODE, the IPv4 allocation stands
        }
        if (dontFragment)
        {
            a.DontFragment = true;
            if (a.Relay4 is { } df4)
                _ports.SetDontFragment(df4);
            if (a.Relay6 is { } df6)
                _ports.SetDontFragment(df6);
        }
        m.TransactionId.CopyTo(a.AllocateTransactionId);
        uint lifetime = DesiredLifetime(m, allowZero: false);
        a.GrantedLifetimeSeconds = lifetime;
        a.ExpiresMicros = nowMicros + lifetime * Micros;
        a.TokensAtMicros = nowMicros;
        a.Tokens = BucketCapacity;
        _byFiveTuple[client] = a;
        if (a.Relay4 is { } r4)
            _byRelay[r4] = a;
        if (a.Relay6 is { } r6)
            _byRelay[r6] = a;
        _allocationsPerUser[a.QuotaKey] = userCount + 1;
        Counters.Allocations++;
        Counters.AllocationsCreated++;
        Schedule(a.ExpiresMicros);
        return AllocateSuccess(m, a, lifetime, key, output, out outputLength);
    }

    private TurnAction AllocateSuccess(in StunMessageView m, TurnAllocation a, uint lifetime, in StunMessageIntegrityKey key, Span<byte> output, out int outputLength)
    {
        var w = new StunMessageWriter(output, StunMethod.Allocate, StunClass.SuccessResponse, m.TransactionId);
        if (a.Relay4 is { } r4)
            w.AddXorRelayedAddress(r4);
        if (a.Relay6 is { } r6)
            w.AddXorRelayedAddress(r6);
        if (a.IPv6Refused)
        {
            // RFC 8656 §18.12: family, reserved, then class and number as in ERROR-CODE.
            Span<byte> v = stackalloc byte[4 + 28];
            v[0] = 0x02;
            v[1] = 0;
            v[2] = 4;
            v[3] = 40;
            "Address Family not Supported"u8.CopyTo(v[4..]);
            w.AddAttribute(StunAttributeType.AddressErrorCode, v);
        }
        w.AddLifetime(lifetime);
        if (a.ReservationToken is { } token)
        {
            // RFC 8656 §14.9
            Span<byte> t = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(t, token);
            w.AddAttribute(StunAttributeType.ReservationToken, t);
        }
        w.AddXorMappedAddress(a.FiveTuple.Client);
        return Finish(ref w, m, sign: true, key, out outputLength);
    }

    // RFC 8656 §8.2
    private TurnAction HandleRefresh(in StunMessageView m, long nowMicros, TurnAllocation? a, in StunMessageIntegrityKey key, Span<byte> output, out int outputLength)
    {
        if (a is null)
            return SignedError(m, StunErrorCode.AllocationMismatch, key, output, out outputLength);
        int familyOnly = 0; // 4 or 6 when REQUESTED-ADDRESS-FAMILY names one relay of a dual allocation
        if (m.TryGetAttribute(StunAttributeType.RequestedAddressFamily, out var family))
        {
            if (family.Length != 4 || family[0] is not (0x01 or 0x02))
                return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
            bool v6 = family[0] == 0x02;
            if (!a.TryGetRelay(v6, out _))
                return SignedError(m, StunErrorCode.PeerAddressFamilyMismatch, key, output, out outputLength);
            familyOnly = v6 ? 6 : 4;
        }
        uint lifetime = DesiredLifetime(m, allowZero: true);
        if (lifetime == 0)
        {
            if (familyOnly != 0 && a.Relay4.HasValue && a.Relay6.HasValue)
                DropRelay(a, familyOnly == 6);
            else
                Delete(a);
        }
        else
        {
            a.ExpiresMicros = nowMicros + lifetime * Micros;
            Schedule(a.ExpiresMicros);
        }
        var w = new StunMessageWriter(output, StunMethod.Refresh, StunClass.SuccessResponse, m.TransactionId);
        w.AddLifetime(lifetime);
        return Finish(ref w, m, sign: true, key, out outputLength);
    }

    // RFC 8656 §9.2: all peers are checked before any permission is installed.
    private TurnAction HandleCreatePermission(in StunMessageView m, long nowMicros, TurnAllocation? a, in StunMessageIntegrityKey key, Span<byte> output, out int outputLength)
    {
        if (a is null)
            return SignedError(m, StunErrorCode.AllocationMismatch, key, output, out outputLength);
        int count = 0, added = 0;
        ReadOnlySpan<byte> message = m.Bytes;
        for (int offset = StunMessageView.HeaderLength; NextPeerAddress(message, ref offset, out bool valid, out var peer);)
        {
            if (!valid)
                return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
            count++;
            var error = CheckPeer(a, peer, requirePort: false);
            if (error != 0)
                return SignedError(m, error, key, output, out outputLength);
            if (!a.Permissions.ContainsKey(peer.WithPort(0)))
                added++;
        }
        if (count == 0)
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        if (a.Permissions.Count + added > _options.MaxPermissionsPerAllocation)
            return SignedError(m, StunErrorCode.InsufficientCapacity, key, output, out outputLength);
        long expires = nowMicros + _options.PermissionLifetimeSeconds * Micros;
        for (int offset = StunMessageView.HeaderLength; NextPeerAddress(message, ref offset, out _, out var peer);)
            SetPermission(a, peer, expires);
        var w = new StunMessageWriter(output, StunMethod.CreatePermission, StunClass.SuccessResponse, m.TransactionId);
        return Finish(ref w, m, sign: true, key, out outputLength);
    }

    // RFC 8656 §11.2
    private TurnAction HandleChannelBind(in StunMessageView m, long nowMicros, TurnAllocation? a, in StunMessageIntegrityKey key, Span<byte> output, out int outputLength)
    {
        if (a is null)
            return SignedError(m, StunErrorCode.AllocationMismatch, key, output, out outputLength);
        if (a.IsTcp)
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength); // no channels on a TCP allocation (RFC 6062 §5)
        if (!m.TryGetChannelNumber(out ushort channel) || channel < 0x4000 || channel > _options.MaxChannelNumber || !m.TryGetXorPeerAddress(out var peer))
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        peer = peer.UnmapIPv4();
        var error = CheckPeer(a, peer, requirePort: true);
        if (error != 0)
            return SignedError(m, error, key, output, out outputLength);
        bool known = a.Channels.TryGetValue(channel, out var binding);
        // A channel is bound to one peer and a peer to one channel, until 5 minutes after the binding ends.
        if (known && binding.Peer != peer
            || a.ChannelByPeer.TryGetValue(peer, out ushort other) && other != channel)
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        if (!known && a.Channels.Count >= _options.MaxChannelsPerAllocation)
            return SignedError(m, StunErrorCode.InsufficientCapacity, key, output, out outputLength);
        if (!a.Permissions.ContainsKey(peer.WithPort(0)) && a.Permissions.Count >= _options.MaxPermissionsPerAllocation)
            return SignedError(m, StunErrorCode.InsufficientCapacity, key, output, out outputLength);
        long expires = nowMicros + _options.ChannelLifetimeSeconds * Micros;
        a.Channels[channel] = new TurnChannel { Peer = peer, ExpiresMicros = expires, Counted = true };
        a.ChannelByPeer[peer] = channel;
        if (!known || !binding.Counted)
            Counters.Channels++;
        Schedule(expires);
        // RFC 8656 §11.2: binding a channel installs or refreshes the peer's permission too.
        SetPermission(a, peer, nowMicros + _options.PermissionLifetimeSeconds * Micros);
        var w = new StunMessageWriter(output, StunMethod.ChannelBind, StunClass.SuccessResponse, m.TransactionId);
        return Finish(ref w, m, sign: true, key, out outputLength);
    }

    // RFC 6062 §5.2: checked here, answered when the host reports the outcome (HandlePeerConnectResult).
    private TurnAction HandleConnect(in StunMessageView m, long nowMicros, TurnAllocation? a, in StunMessageIntegrityKey key, Span<byte> output, out int outputLength)
    {
        outputLength = 0;
        if (a is null)
            return SignedError(m, StunErrorCode.AllocationMismatch, key, output, out outputLength);
        if (!a.IsTcp || !m.TryGetXorPeerAddress(out var peer))
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        peer = peer.UnmapIPv4();
        var error = CheckPeer(a, peer, requirePort: true);
        if (error != 0)
            return SignedError(m, error, key, output, out outputLength);
        // A permission first, as for any relayed traffic (coturn asks none: TcpConnectRequiresPermission off).
        if (_options.TcpConnectRequiresPermission && !HasPermission(a, peer, nowMicros))
        {
            Counters.Drop(TurnDropReason.NoPermission);
            return SignedError(m, StunErrorCode.Forbidden, key, output, out outputLength);
        }
        foreach (var existing in a.TcpConnections!)
            if (existing.Peer == peer)
                return SignedError(m, StunErrorCode.ConnectionAlreadyExists, key, output, out outputLength);
        if (a.TcpConnections.Count >= _options.MaxTcpConnectionsPerAllocation)
            return SignedError(m, StunErrorCode.InsufficientCapacity, key, output, out outputLength);
        a.TryGetRelay(peer.IsIPv6, out var relay);
        var c = AddTcp(a, peer, TurnTcpConnection.Phase.Connecting);
        m.TransactionId.CopyTo(c.ConnectTransactionId);
        c.ConnectFingerprint = m.HasFingerprint;
        _tcp!.Connect(c.Id, relay, peer);
        return TurnAction.None;
    }

    // RFC 6062 §5.4: on a new TCP/TLS connection, with the allocation owner's credentials.
    private TurnAction HandleConnectionBind(in StunMessageView m, in TurnFiveTuple client, long nowMicros, TurnAllocation? existing,
        in StunMessageIntegrityKey key, byte[] usernameUtf8, Span<byte> output, out int outputLength)
    {
        if (existing is not null || !client.IsStream || _tcpByData.ContainsKey(client))
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        if (!m.TryGetAttribute(StunAttributeType.ConnectionId, out var value) || value.Length != 4)
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        uint id = BinaryPrimitives.ReadUInt32BigEndian(value);
        if (!_tcpById.TryGetValue(id, out var c) || c.State != TurnTcpConnection.Phase.Pending || c.BindDeadlineMicros <= nowMicros)
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        var a = c.Allocation;
        if (a.ExpiresMicros <= nowMicros)
        {
            Delete(a);
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        }
        if (!usernameUtf8.AsSpan().SequenceEqual(a.UsernameUtf8))
            return SignedError(m, StunErrorCode.WrongCredentials, key, output, out outputLength);
        if (client.Transport != a.FiveTuple.Transport)
            return SignedError(m, StunErrorCode.BadRequest, key, output, out outputLength);
        c.State = TurnTcpConnection.Phase.Bound;
        c.BindDeadlineMicros = long.MaxValue;
        c.DataConnection = client;
        _tcpByData[client] = c;
        Counters.TcpBinds++;
        _tcp!.Splice(c.Id, client);
        var w = new StunMessageWriter(output, StunMethod.ConnectionBind, StunClass.SuccessResponse, m.TransactionId);
        return Finish(ref w, m, sign: true, key, out outputLength);
    }

    private TurnTcpConnection AddTcp(TurnAllocation a, in NetAddress peer, TurnTcpConnection.Phase state)
    {
        uint id;
        Span<byte> bytes = stackalloc byte[12];
        do
        {
            NextTransactionId(bytes);
            id = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }
        while (id == 0 || _tcpById.ContainsKey(id));
        var c = new TurnTcpConnection(id, a, peer) { State = state };
        _tcpById[id] = c;
        a.TcpConnections!.Add(c);
        Counters.TcpConnections++;
        return c;
    }

    private void RemoveTcp(TurnTcpConnection c, bool closeInHost)
    {
        if (!_tcpById.Remove(c.Id))
            return;
        c.Allocation.TcpConnections!.Remove(c);
        if (c.State == TurnTcpConnection.Phase.Bound)
            _tcpByData.Remove(c.DataConnection);
        Counters.TcpConnections--;
        if (closeInHost)
            _tcp!.Close(c.Id);
    }

    private static void AddConnectionId(ref StunMessageWriter w, uint id)
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(v, id);
        w.AddAttribute(StunAttributeType.ConnectionId, v);
    }

    private StunErrorCode CheckPeer(TurnAllocation a, in NetAddress peer, bool requirePort)
    {
        if (requirePort && peer.Port == 0)
            return StunErrorCode.BadRequest;
        if (!a.TryGetRelay(peer.IsIPv6, out _))
            return StunErrorCode.PeerAddressFamilyMismatch; // RFC 8656 §9.2, §11.2
        if (!TurnPeerPolicy.IsAllowed(peer, _allowed, _denied))
        {
            if (!_exactAllowed.Contains(peer))
            {
                Counters.Drop(TurnDropReason.ForbiddenPeer);
                return StunErrorCode.Forbidden;
            }
            a.ExactPeerException = true;
        }
        return 0;
    }

    private void SetPermission(TurnAllocation a, in NetAddress peer, long expires)
    {
        var ip = peer.UnmapIPv4().WithPort(0);
        if (!a.Permissions.ContainsKey(ip))
            Counters.Permissions++;
        a.Permissions[ip] = expires;
        Schedule(expires);
    }

    private static bool HasPermission(TurnAllocation a, in NetAddress peer, long nowMicros) =>
        a.Permissions.TryGetValue(peer.WithPort(0), out long expires) && expires > nowMicros;

    /// <summary>Walks the XOR-PEER-ADDRESS attributes before the integrity attributes; valid is false for a malformed one.</summary>
    private static bool NextPeerAddress(ReadOnlySpan<byte> message, ref int offset, out bool valid, out NetAddress peer)
    {
        valid = false;
        peer = default;
        // TryRead checked that every attribute fits.
        while (message.Length - offset >= 4)
        {
            var type = (StunAttributeType)BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
            var value = message.Slice(offset + 4, length);
            offset += 4 + ((length + 3) & ~3);
            if (type is StunAttributeType.MessageIntegrity or StunAttributeType.MessageIntegritySha256 or StunAttributeType.Fingerprint)
                return false;
            if (type != StunAttributeType.XorPeerAddress)
                continue;
            valid = TryDecodeXorAddress(value, message, out peer);
            peer = peer.UnmapIPv4();
            return true;
        }
        return false;
    }

    // RFC 8489 §14.2
    private static bool TryDecodeXorAddress(ReadOnlySpan<byte> v, ReadOnlySpan<byte> message, out NetAddress address)
    {
        address = default;
        if (v.Length < 4)
            return false;
        ushort port = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(v[2..]) ^ (StunMessageView.MagicCookie >> 16));
        if (v[1] == 0x01 && v.Length == 8)
        {
            address = NetAddress.FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(v[4..]) ^ StunMessageView.MagicCookie, port);
            return true;
        }
        if (v[1] != 0x02 || v.Length != 20)
            return false;
        Span<byte> bytes = stackalloc byte[16];
        for (int i = 0; i < 16; i++)
            bytes[i] = (byte)(v[4 + i] ^ message[4 + i]);
        return NetAddress.TryCreate(bytes, port, out address);
    }

    private uint DesiredLifetime(in StunMessageView m, bool allowZero)
    {
        if (!m.TryGetLifetime(out uint requested))
            return _options.DefaultLifetimeSeconds;
        if (requested == 0 && allowZero)
            return 0;
        // RFC 8656 §7.2, §8.2: min(requested, max), but never below the default.
        return Math.Max(Math.Min(requested, _options.MaxLifetimeSeconds), _options.DefaultLifetimeSeconds);
    }

    private void Delete(TurnAllocation a)
    {
        if (!_byFiveTuple.Remove(a.FiveTuple))
            return;
        if (a.TcpConnections is { } tcp)
        {
            // RFC 6062 §5: the allocation's peer and data connections end with it.
            while (tcp.Count > 0)
                RemoveTcp(tcp[^1], closeInHost: true);
        }
        if (a.Relay4 is { } r4)
        {
            _byRelay.Remove(r4);
            if (a.IsTcp)
                _tcp!.CloseListener(r4);
            else
                _ports.Release(r4);
        }
        if (a.Relay6 is { } r6)
        {
            _byRelay.Remove(r6);
            if (a.IsTcp)
                _tcp!.CloseListener(r6);
            else
                _ports.Release(r6);
        }
        Counters.Allocations--;
        Counters.Permissions -= a.Permissions.Count;
        foreach (var binding in a.Channels.Values)
            if (binding.Counted)
                Counters.Channels--;
        if (_allocationsPerUser.TryGetValue(a.QuotaKey, out int n))
        {
            if (n <= 1)
                _allocationsPerUser.Remove(a.QuotaKey);
            else
                _allocationsPerUser[a.QuotaKey] = n - 1;
        }
    }

    // A dual allocation's Refresh with REQUESTED-ADDRESS-FAMILY and LIFETIME 0 ends one relay (RFC 8656 §8.2).
    private void DropRelay(TurnAllocation a, bool ipv6)
    {
        var relay = (ipv6 ? a.Relay6 : a.Relay4)!.Value;
        if (ipv6)
            a.Relay6 = null;
        else
            a.Relay4 = null;
        _byRelay.Remove(relay);
        _ports.Release(relay);
        foreach (var (ip, _) in a.Permissions)
        {
            if (ip.IsIPv6 == ipv6)
            {
                a.Permissions.Remove(ip);
                Counters.Permissions--;
            }
        }
        foreach (var (number, binding) in a.Channels)
        {
            if (binding.Peer.IsIPv6 == ipv6)
            {
                a.Channels.Remove(number);
                a.ChannelByPeer.Remove(binding.Peer);
                if (binding.Counted)
                    Counters.Channels--;
            }
        }
    }

    private void Schedule(long atMicros)
    {
        if (atMicros < _nextTimeoutMicros)
            _nextTimeoutMicros = atMicros;
    }

    // ---- bandwidth and flood limits ----

    private long BucketCapacity
    {
        get
        {
            long rate = _options.MaxBytesPerSecondPerAllocation;
            long burst = _options.BurstBytesPerAllocation > 0 ? _options.BurstBytesPerAllocation : rate;
            return burst * Micros; // tokens are micro-bytes, so no fraction is lost between packets
        }
    }

    private bool TrySpend(TurnAllocation a, int bytes, long nowMicros)
    {
        long rate = _options.MaxBytesPerSecondPerAllocation;
        if (rate <= 0)
            return true;
        long capacity = BucketCapacity;
        long elapsed = nowMicros - a.TokensAtMicros;
        if (elapsed > 0)
        {
            elapsed = Math.Min(elapsed, capacity / rate + 1);
            a.Tokens = Math.Min(capacity, a.Tokens + elapsed * rate);
            a.TokensAtMicros = nowMicros;
        }
        long cost = bytes * Micros;
        if (a.Tokens < cost)
            return false;
        a.Tokens -= cost;
        return true;
    }

    private bool TrySpendUnauthenticated(long nowMicros)
    {
        long rate = _options.UnauthenticatedResponsesPerSecond;
        if (rate <= 0)
            return true;
        long capacity = rate * Micros; // one second's worth
        if (_unauthenticatedTokens < 0)
        {
            _unauthenticatedTokens = capacity;
            _unauthenticatedAtMicros = nowMicros;
        }
        long elapsed = nowMicros - _unauthenticatedAtMicros;
        if (elapsed > 0)
        {
            elapsed = Math.Min(elapsed, Micros + 1);
            _unauthenticatedTokens = Math.Min(capacity, _unauthenticatedTokens + elapsed * rate);
            _unauthenticatedAtMicros = nowMicros;
        }
        if (_unauthenticatedTokens < Micros)
            return false;
        _unauthenticatedTokens -= Micros;
        return true;
    }

    // ---- authentication: RFC 8489 §9.2.4 ----

    private enum AuthResult { Ok, Challenge, Stale, BadRequest, WrongCredentials }

    private AuthResult Authenticate(in StunMessageView m, in TurnFiveTuple client, long nowMicros, TurnAllocation? existing,
        out StunMessageIntegrityKey key, out string? username, out byte[]? usernameUtf8, out long restExpiry)
    {
        key = default;
        username = null;
        usernameUtf8 = null;
        restExpiry = long.MaxValue;
        if (!m.HasMessageIntegrity)
            return AuthResult.Challenge;
        if (!m.TryGetUsername(out var user) || !m.TryGetRealm(out var realm) || !m.TryGetNonce(out var nonce))
            return AuthResult.BadRequest;
        if (!IsNonceValid(nonce, client, nowMicros))
            return AuthResult.Stale;
        if (!realm.SequenceEqual(_realmUtf8))
            return AuthResult.Challenge;
        long unixSeconds = (nowMicros + UnixEpochOffsetMicros) / Micros;

        if (existing is not null && user.SequenceEqual(existing.UsernameUtf8))
        {
            // The allocation's own user: its key is kept, no lookup.
            if (existing.RestExpiryUnixSeconds <= unixSeconds || !m.VerifyMessageIntegrity(existing.Key))
                return AuthResult.Challenge;
            key = existing.Key;
            username = existing.Username;
            usernameUtf8 = existing.UsernameUtf8;
            restExpiry = existing.RestExpiryUnixSeconds;
            return AuthResult.Ok;
        }

        if (user.Length == 0 || user.Length > 513)
            return AuthResult.Challenge; // RFC 8489 §14.3: at most 513 bytes
        string name;
        try
        {
            name = StrictUtf8.GetString(user);
        }
        catch (ArgumentException)
        {
            return AuthResult.Challenge;
        }
        Span<byte> rawKey = stackalloc byte[StunLongTermCredential.KeyLength];
        if (_staticKeys.TryGetValue(name, out var staticKey))
        {
            staticKey.CopyTo(rawKey);
        }
        else if (_sharedSecret is not null && TryParseRestExpiry(name, out long expiry))
        {
            if (expiry <= unixSeconds)
                return AuthResult.Challenge; // expired REST credentials are refused like unknown ones
            Span<byte> mac = stackalloc byte[20];
            HMACSHA1.HashData(_sharedSecret, user, mac);
            string password = Convert.ToBase64String(mac);
            StunLongTermCredential.TryComputeKey(name, _options.Realm, password, rawKey);
            restExpiry = expiry;
        }
        else
        {
            return AuthResult.Challenge;
        }
        key = StunMessageIntegrityKey.Create(rawKey);
        CryptographicOperations.ZeroMemory(rawKey);
        if (!m.VerifyMessageIntegrity(key))
            return AuthResult.Challenge;
        username = name;
        usernameUtf8 = user.ToArray();
        return existing is null ? AuthResult.Ok : AuthResult.WrongCredentials;
    }

    // coturn's REST form: "expiry" or "expiry:user", expiry in Unix seconds.
    private static bool TryParseRestExpiry(string username, out long expiry)
    {
        int colon = username.IndexOf(':');
        var digits = colon < 0 ? username.AsSpan() : username.AsSpan(0, colon);
        expiry = 0;
        if (digits.Length == 0 || digits.Length > 18)
            return false;
        foreach (char c in digits)
        {
            if (c is < '0' or > '9')
                return false;
            expiry = expiry * 10 + (c - '0');
        }
        return true;
    }

    // A nonce is its expiry and a MAC binding it to the client's address, so the server keeps no state for it.
    private void WriteNonce(Span<byte> nonce, in TurnFiveTuple client, long nowMicros)
    {
        long expiry = nowMicros + _options.NonceLifetimeSeconds * Micros;
        Span<byte> mac = stackalloc byte[20];
        ComputeNonceMac(expiry, client, mac);
        Span<byte> raw = stackalloc byte[20];
        BinaryPrimitives.WriteInt64BigEndian(raw, expiry);
        mac[..12].CopyTo(raw[8..]);
        for (int i = 0; i < 20; i++)
        {
            nonce[2 * i] = Hex(raw[i] >> 4);
            nonce[2 * i + 1] = Hex(raw[i] & 0xF);
        }
    }

    private bool IsNonceValid(ReadOnlySpan<byte> nonce, in TurnFiveTuple client, long nowMicros)
    {
        if (nonce.Length != NonceLength)
            return false;
        Span<byte> raw = stackalloc byte[20];
        for (int i = 0; i < 20; i++)
        {
            int hi = Unhex(nonce[2 * i]), lo = Unhex(nonce[2 * i + 1]);
            if ((hi | lo) < 0)
                return false;
            raw[i] = (byte)(hi << 4 | lo);
        }
        long expiry = BinaryPrimitives.ReadInt64BigEndian(raw);
        Span<byte> mac = stackalloc byte[20];
        ComputeNonceMac(expiry, client, mac);
        return CryptographicOperations.FixedTimeEquals(mac[..12], raw[8..]) && expiry > nowMicros;
    }

    private void ComputeNonceMac(long expiry, in TurnFiveTuple client, Span<byte> mac)
    {
        Span<byte> input = stackalloc byte[NonceMacInputLength];
        input.Clear();
        BinaryPrimitives.WriteInt64BigEndian(input, expiry);
        client.Client.WriteAddressBytes(input[8..]);
        // Over TCP/TLS without the port: an RFC 6062 data connection (a new port) may reuse its control connection's nonce, as coturn's clients do.
        BinaryPrimitives.WriteUInt16BigEndian(input[24..], client.IsStream ? (ushort)0 : client.Client.Port);
        input[26] = (byte)client.Transport;
        _nonceKey.Compute(input, default, mac);
    }

    private static byte Hex(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private static int Unhex(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => -1,
    };

    // ---- responses ----

    private TurnAction UnauthenticatedError(in StunMessageView m, in TurnFiveTuple client, long nowMicros, StunErrorCode code, bool challenge,
        Span<byte> output, out int outputLength)
    {
        outputLength = 0;
        if (!TrySpendUnauthenticated(nowMicros))
            return Drop(TurnDropReason.RateLimited);
        var w = new StunMessageWriter(output, m.Method, StunClass.ErrorResponse, m.TransactionId);
        w.AddErrorCode(code, Reason(code));
        if (challenge)
        {
            // RFC 8489 §9.2.4: REALM and a fresh NONCE, no MESSAGE-INTEGRITY.
            w.AddAttribute(StunAttributeType.Realm, _realmUtf8);
            Span<byte> nonce = stackalloc byte[NonceLength];
            WriteNonce(nonce, client, nowMicros);
            w.AddAttribute(StunAttributeType.Nonce, nonce);
        }
        Counters.ErrorResponses++;
        return Finish(ref w, m, sign: false, default, out outputLength);
    }

    private TurnAction SignedError(in StunMessageView m, StunErrorCode code, in StunMessageIntegrityKey key, Span<byte> output, out int outputLength)
    {
        var w = new StunMessageWriter(output, m.Method, StunClass.ErrorResponse, m.TransactionId);
        w.AddErrorCode(code, Reason(code));
        Counters.ErrorResponses++;
        return Finish(ref w, m, sign: true, key, out outputLength);
    }

    private TurnAction UnknownAttributes(in StunMessageView m, ReadOnlySpan<StunAttributeType> unknown, in StunMessageIntegrityKey key, Span<byte> output, out int outputLength)
    {
        var w = new StunMessageWriter(output, m.Method, StunClass.ErrorResponse, m.TransactionId);
        w.AddErrorCode(StunErrorCode.UnknownAttribute, Reason(StunErrorCode.UnknownAttribute));
        w.AddUnknownAttributes(unknown);
        Counters.ErrorResponses++;
        return Finish(ref w, m, sign: true, key, out outputLength);
    }

    // An answer written after the request is gone (the Connect response, RFC 6062 §5.2).
    private TurnAction FinishLate(ref StunMessageWriter w, in StunMessageIntegrityKey key, bool fingerprint, out int outputLength)
    {
        outputLength = 0;
        if (_softwareUtf8 is not null)
            w.AddAttribute(StunAttributeType.Software, _softwareUtf8);
        w.AddMessageIntegrity(key);
        if (fingerprint)
            w.AddFingerprint();
        if (w.Failed)
            return Drop(TurnDropReason.OutputTooSmall);
        outputLength = w.Length;
        return TurnAction.ToClient;
    }

    private TurnAction Finish(ref StunMessageWriter w, in StunMessageView request, bool sign, in StunMessageIntegrityKey key, out int outputLength)
    {
        outputLength = 0;
        if (_softwareUtf8 is not null)
            w.AddAttribute(StunAttributeType.Software, _softwareUtf8);
        if (sign)
            w.AddMessageIntegrity(key);
        if (request.HasFingerprint)
            w.AddFingerprint();
        if (w.Failed)
            return Drop(TurnDropReason.OutputTooSmall);
        outputLength = w.Length;
        return TurnAction.ToClient;
    }

    private static ReadOnlySpan<byte> Reason(StunErrorCode code) => code switch
    {
        StunErrorCode.BadRequest => "Bad Request"u8,
        StunErrorCode.Unauthorized => "Unauthorized"u8,
        StunErrorCode.Forbidden => "Forbidden"u8,
        StunErrorCode.UnknownAttribute => "Unknown Attribute"u8,
        StunErrorCode.AllocationMismatch => "Allocation Mismatch"u8,
        StunErrorCode.StaleNonce => "Stale Nonce"u8,
        StunErrorCode.AddressFamilyNotSupported => "Address Family not Supported"u8,
        StunErrorCode.WrongCredentials => "Wrong Credentials"u8,
        StunErrorCode.UnsupportedTransportProtocol => "Unsupported Transport Protocol"u8,
        StunErrorCode.PeerAddressFamilyMismatch => "Peer Address Family Mismatch"u8,
        StunErrorCode.ConnectionAlreadyExists => "Connection Already Exists"u8,
        StunErrorCode.ConnectionTimeoutOrFailure => "Connection Timeout or Failure"u8,
        StunErrorCode.AllocationQuotaReached => "Allocation Quota Reached"u8,
        StunErrorCode.InsufficientCapacity => "Insufficient Capacity"u8,
        _ => "Error"u8,
    };

    // xorshift64*: indication transaction ids need to be unpredictable enough, not secret (RFC 8489 §6).
    private void NextTransactionId(Span<byte> id)
    {
        ulong x = _transactionIdState;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        _transactionIdState = x;
        ulong a = x * 0x2545F4914F6CDD1DUL;
        BinaryPrimitives.WriteUInt64LittleEndian(id, a);
        BinaryPrimitives.WriteUInt32LittleEndian(id[8..], (uint)(a >> 21) ^ (uint)x);
    }

    private TurnAction Drop(TurnDropReason reason)
    {
        Counters.Drop(reason);
        return TurnAction.None;
    }
}
