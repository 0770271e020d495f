using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using Engine.Host.Config;
using Engine.Host.Logging;
using Engine.Host.Transport;
using Engine.Ice;
using Engine.Ice.Turn;

namespace Engine.Host.Turn;

/// <summary>
/// The I/O shell of <see cref="TurnServer"/>: UDP listeners and relayed sockets on one thread of
/// its own ("turn-loop", not the media thread) that waits in epoll, reads in batches (recvmmsg),
/// answers clients in batches (sendmmsg) and sends to peers in batches too (one sendmmsg per run of
/// datagrams for the same relayed socket, flushed before each wait); TCP and TLS
/// clients are read and written by their own tasks and their framed messages queued to that thread
/// (bounded). Timers come from the core's next timeout. A datagram, a frame or a connection that
/// misbehaves is a counted drop; nothing thrown by one connection reaches another.
/// </summary>
public sealed partial class TurnHost : IRelayPortAllocator, IDisposable
{
    private const int BatchSize = 64;
    private const int SlotBytes = 4096;
    private const int MaxBatchesPerWake = 8;
    private const int MaxWaitMillis = 100;
    private const int MaxInbox = 16_384;
    private const int MaxConnections = 4096;
    // An inbox entry with no buffer and this length asks whether its connection is idle (no buffer, length 0: it closed).
    private const int IdleCheck = -1;
    // RFC 8656 §14.1 (DONT-FRAGMENT) on Linux: IPPROTO_IP/IP_MTU_DISCOVER=IP_PMTUDISC_DO, IPPROTO_IPV6/IPV6_DONTFRAG=1.
    internal const int IpProtoIp = 0, IpMtuDiscover = 10, IpPmtuDiscDo = 2, IpProtoIpv6 = 41, Ipv6DontFrag = 62;
    private const ulong EventFdTag = ulong.MaxValue;

    private readonly TurnConfig _config;
    private readonly TurnServer _server;
    private readonly Thread _thread;
    private readonly int _epoll;
    private readonly WakeSignal _wake = new();
    private readonly List<Entry?> _entries = new();
    private readonly Stack<int> _freeEntries = new();
    private readonly Dictionary<NetAddress, Entry> _listenerByLocal = new();
    private readonly Dictionary<NetAddress, Entry> _relayByAdvertised = new();
    private readonly List<Entry> _listeners = new();
    private readonly UdpBatch _rx = new(BatchSize, SlotBytes);
    // Datagrams for peers, all from one relayed socket (_peerTxRelay): sendmmsg takes one socket.
    private readonly UdpBatch _peerTx = new(BatchSize, SlotBytes);
    private Entry? _peerTxRelay;
    private readonly byte[] _scratch = new byte[65_536 + 64];
    private readonly ConcurrentQueue<StreamInput> _inbox = new();
    private int _inboxCount;
    private readonly Dictionary<TurnFiveTuple, TurnStreamConnection> _streams = new();
    private readonly ConcurrentDictionary<TurnStreamConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<IPAddress, int> _connectionsPerIp = new();
    private readonly long _idleTimeoutMicros;
    private readonly TimeSpan _idleCheck;
    private readonly List<(Socket Socket, bool Tls)> _streamListeners = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly X509Certificate2? _tlsCertificate;
    private readonly IPAddress? _relayIPv4;
    private readonly IPAddress? _relayIPv6;
    private readonly object _statsLock = new();
    private readonly TurnStats _published = new();
    private long _publishedAtMicros;
    private volatile bool _stopping;

    /// <param name="dtlsCertificatePath">[WEBRTC] DTLSCER, the TLS certificate when [TURN] cert is not set.</param>
    /// <param name="ownMediaAddresses">The engine's media ports: always relayed to, whatever the deny lists say (that port only).</param>
    public unsafe TurnHost(TurnConfig config, string? dtlsCertificatePath = null, string? dtlsKeyPath = null, IEnumerable<IPEndPoint>? ownMediaAddresses = null)
    {
        _config = config;
        var options = config.ToServerOptions();
        foreach (var media in ownMediaAddresses ?? Array.Empty<IPEndPoint>())
            options.AllowedPeerAddresses.Add(NetAddress.FromIPEndPoint(media).UnmapIPv4());
        options.UnixEpochOffsetMicros = UnixNowMicros() - MediaLoop.NowMicros();
        options.SupportsDontFragment = OperatingSystem.IsLinux(); // SetDontFragment's socket options
        _server = new TurnServer(options, this, this);
        _idleTimeoutMicros = config.MaxAllocateTimeoutSeconds * 1_000_000L;
        // Checked four times per timeout: a connection closes between 1 and 1.25 timeouts after its last allocation.
        _idleCheck = TimeSpan.FromMicroseconds(Math.Max(_idleTimeoutMicros / 4, 50_000));
        _epoll = TurnNative.EpollCreate1(TurnNative.EpollCloexec);
        if (_epoll < 0)
            throw new SocketException(Marshal.GetLastPInvokeError());
        var ev = new TurnNative.EpollEvent { Events = TurnNative.EpollIn, Data = EventFdTag };
        TurnNative.EpollCtl(_epoll, TurnNative.EpollCtlAdd, _wake.Fd, &ev);

        var listenIps = config.ListeningIps.Count > 0 ? config.ListeningIps.ToArray()
            : new[] { Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any };
        (_relayIPv4, _relayIPv6) = ChooseRelayAddresses(config, listenIps);
        try
        {
            foreach (var ip in listenIps)
            {
                if (!config.NoUdp)
                    AddUdpListener(new IPEndPoint(ip, config.ListeningPort));
                if (!config.NoTcp)
                    _streamListeners.Add((Listen(new IPEndPoint(ip, config.ListeningPort), tls: false), false));
                if (!config.NoTls)
                    _streamListeners.Add((Listen(new IPEndPoint(ip, config.TlsListeningPort), tls: true), true));
            }
            if (!config.NoTls)
                _tlsCertificate = LoadCertificate(config.CertificatePath ?? dtlsCertificatePath, config.CertificatePath != null ? config.KeyPath : dtlsKeyPath);
        }
        catch
        {
            Dispose();
            throw;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "turn-loop" };
    }

    public TurnHostCounters HostCounters { get; } = new();

    /// <summary>TCP/TLS connections one source IP may hold at once (coturn has no such cap; a NAT's many clients fit).</summary>
    internal int MaxConnectionsPerIp { get; set; } = 256;

    /// <summary>The addresses bound, for the start-up line and tests.</summary>
    public IReadOnlyList<string> Listening => _listening;
    private readonly List<string> _listening = new();

    /// <summary>Bytes the TURN thread has allocated (published with the stats): relaying must leave it flat.</summary>
    public long AllocatedBytes => Volatile.Read(ref _allocatedBytes);
    private long _allocatedBytes;

    public void Start()
    {
        _thread.Start();
        foreach (var (listener, tls) in _streamListeners)
            _ = AcceptLoopAsync(listener, tls);
    }

    /// <summary>A copy of the counters as the TURN thread last published them (at most 100 ms old).</summary>
    public TurnStats Snapshot()
    {
        var s = new TurnStats();
        lock (_statsLock)
            s.CopyFrom(_published);
        s.Connections = _connections.Count;
        HostCounters.CopyTo(s);
        return s;
    }

    // ---- the TURN thread ----

    private unsafe void Run()
    {
        var events = stackalloc TurnNative.EpollEvent[BatchSize];
        while (!_stopping)
        {
            long now = MediaLoop.NowMicros();
            if (now >= _server.NextTimeoutMicros)
                _server.HandleTimeout(now);
            if (now - _publishedAtMicros >= 100_000)
                Publish(now);
            long next = _server.NextTimeoutMicros;
            int wait = next == long.MaxValue ? MaxWaitMillis : (int)Math.Clamp((next - now + 999) / 1000, 0, MaxWaitMillis);
            _wake.Sleeping();
            if (!_inbox.IsEmpty || !_tcpEvents.IsEmpty)
                wait = 0; // queued before the flag was up: its producer did not signal
            int n = TurnNative.EpollWait(_epoll, events, BatchSize, wait);
            _wake.Awake();
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() != TurnNative.EINTR)
                    HostCounters.Increment(TurnHostDrop.PollError);
                continue;
            }
            for (int i = 0; i < n && !_stopping; i++)
            {
                try
                {
                    ulong tag = events[i].Data;
                    if (tag == EventFdTag)
                    {
                        _wake.Drain();
                        DrainInbox();
                        continue;
                    }
                    var entry = (int)tag < _entries.Count ? _entries[(int)tag] : null;
                    if (entry is null)
                        continue;
                    if (entry.IsListener)
                        ReadClients(entry);
                    else
                        ReadPeers(entry);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A bug, not bad input: counted and logged; the loop and every other allocation carry on.
                    HostCounters.Increment(TurnHostDrop.Fault);
                    Log.Error($"turn: {e.GetType().Name}: {e.Message}");
                }
            }
            if (!_inbox.IsEmpty || !_tcpEvents.IsEmpty)
                DrainInbox();
            FlushPeers();
            FlushListeners();
        }
    }

    private void Publish(long now)
    {
        _publishedAtMicros = now;
        Volatile.Write(ref _allocatedBytes, GC.GetAllocatedBytesForCurrentThread());
        lock (_statsLock)
            _published.CopyFrom(_server.Counters);
    }

    private void ReadClients(Entry listener)
    {
        var handle = listener.Socket.SafeHandle;
        for (int batch = 0; batch < MaxBatchesPerWake; batch++)
        {
            int n = _rx.Receive(handle);
            if (n < 0)
            {
                HostCounters.Increment(TurnHostDrop.ReceiveError);
                continue;
            }
            long now = MediaLoop.NowMicros();
            var tx = listener.Tx!;
            for (int i = 0; i < n; i++)
            {
                if (!_rx.TryGetSource(i, out var from))
                {
                    HostCounters.Increment(TurnHostDrop.BadAddress);
                    continue;
                }
                var datagram = _rx.Datagram(i);
                if (_config.NoStun && IsBindingRequest(datagram))
                {
                    HostCounters.Increment(TurnHostDrop.StunDisabled);
                    continue;
                }
                // ChannelData (RFC 8656 §12: first byte 0b01) is written by the core straight into the
                // peer batch, anything else into the client batch: no second copy either way.
                bool channelData = datagram.Length > 0 && (datagram[0] & 0xC0) == 0x40;
                if (channelData ? _peerTx.Count == _peerTx.Capacity : tx.Count == tx.Capacity)
                {
                    if (channelData)
                        FlushPeers();
                    else
                        Flush(listener);
                }
                var output = channelData ? _peerTx.NextBuffer : tx.NextBuffer;
                var five = new TurnFiveTuple(TurnTransport.Udp, from, listener.Local);
                var action = _server.HandleClientMessage(datagram, five, now, output, out int length, out var relay, out var peer);
                if (action == TurnAction.ToClient)
                {
                    if (channelData)
                        SendToClient(five, output[..length]);
                    else if (!tx.TryAdd(length, from, listener.IPv6Socket))
                        HostCounters.Increment(TurnHostDrop.BadAddress);
                }
                else if (action == TurnAction.ToPeer)
                {
                    if (channelData)
                        AddPeerInPlace(relay, peer, length);
                    else
                        SendToPeer(relay, peer, output[..length]);
                }
            }
            if (n < BatchSize)
                return;
        }
    }

    private void ReadPeers(Entry relay)
    {
        var handle = relay.Socket.SafeHandle;
        for (int batch = 0; batch < MaxBatchesPerWake; batch++)
        {
            int n = _rx.Receive(handle);
            if (n < 0)
            {
                HostCounters.Increment(TurnHostDrop.ReceiveError); // ICMP from a peer: not fatal
                continue;
            }
            long now = MediaLoop.NowMicros();
            for (int i = 0; i < n; i++)
            {
                if (!_rx.TryGetSource(i, out var from))
                {
                    HostCounters.Increment(TurnHostDrop.BadAddress);
                    continue;
                }
                // The listener this relay's client last came through: the core writes into its batch.
                var listener = relay.ClientListener;
                if (listener is not null && listener.Tx!.Count == listener.Tx.Capacity)
                    Flush(listener);
                var output = listener is not null ? listener.Tx!.NextBuffer : _scratch;
                var action = _server.HandlePeerDatagram(relay.Advertised, from, _rx.Datagram(i), now, output, out int length, out var client);
                if (action != TurnAction.ToClient)
                    continue;
                if (listener is not null && client.Transport == TurnTransport.Udp && client.Server == listener.Local)
                {
                    if (!listener.Tx!.TryAdd(length, client.Client, listener.IPv6Socket))
                        HostCounters.Increment(TurnHostDrop.BadAddress);
                    continue;
                }
                SendToClient(client, output[..length]);
                if (client.Transport == TurnTransport.Udp && _listenerByLocal.TryGetValue(client.Server, out var l))
                    relay.ClientListener = l;
            }
            if (n < BatchSize)
                return;
        }
    }

    private void SendToClient(in TurnFiveTuple client, ReadOnlySpan<byte> message)
    {
        if (client.Transport != TurnTransport.Udp)
        {
            if (_streams.TryGetValue(client, out var connection))
                connection.Enqueue(message);
            else
                HostCounters.Increment(TurnHostDrop.ConnectionGone);
            return;
        }
        if (!_listenerByLocal.TryGetValue(client.Server, out var listener))
        {
            HostCounters.Increment(TurnHostDrop.ConnectionGone);
            return;
        }
        var tx = listener.Tx!;
        if (tx.Count == tx.Capacity)
            Flush(listener);
        if (message.Length > SlotBytes)
        {
            HostCounters.Increment(TurnHostDrop.TooLarge);
            return;
        }
        message.CopyTo(tx.NextBuffer);
        if (!tx.TryAdd(message.Length, client.Client, listener.IPv6Socket))
            HostCounters.Increment(TurnHostDrop.BadAddress);
    }

    /// <summary>Commits the peer batch's next slot, which the core has just filled with <paramref name="length"/> bytes.</summary>
    private void AddPeerInPlace(in NetAddress relayAddress, in NetAddress peer, int length)
    {
        if (!_relayByAdvertised.TryGetValue(relayAddress, out var relay))
        {
            HostCounters.Increment(TurnHostDrop.ConnectionGone);
            return;
        }
        if (_peerTxRelay != relay && _peerTx.Count > 0)
        {
            // Another socket: the slot must move to the front of a fresh batch.
            Span<byte> slot = _peerTx.NextBuffer[..length];
            FlushPeers();
            slot.CopyTo(_peerTx.NextBuffer);
        }
        _peerTxRelay = relay;
        if (!_peerTx.TryAdd(length, peer, relay.IPv6Socket))
            HostCounters.Increment(TurnHostDrop.BadAddress);
    }

    private void FlushPeers()
    {
        if (_peerTx.Count == 0)
            return;
        _peerTx.Send(_peerTxRelay!.Socket.SafeHandle, out int errors);
        if (errors > 0)
            HostCounters.Add(TurnHostDrop.SendError, errors);
    }

    private unsafe void SendToPeer(in NetAddress relayAddress, in NetAddress peer, ReadOnlySpan<byte> payload)
    {
        if (!_relayByAdvertised.TryGetValue(relayAddress, out var relay))
        {
            HostCounters.Increment(TurnHostDrop.ConnectionGone);
            return;
        }
        if (payload.Length <= SlotBytes)
        {
            if (_peerTx.Count == _peerTx.Capacity || (_peerTxRelay != relay && _peerTx.Count > 0))
                FlushPeers();
            payload.CopyTo(_peerTx.NextBuffer);
            _peerTxRelay = relay;
            if (!_peerTx.TryAdd(payload.Length, peer, relay.IPv6Socket))
                HostCounters.Increment(TurnHostDrop.BadAddress);
            return;
        }
        byte* sockaddr = stackalloc byte[32];
        int nameLength = peer.TryWriteSockaddr(new Span<byte>(sockaddr, 32), relay.IPv6Socket);
        if (nameLength == 0)
        {
            HostCounters.Increment(TurnHostDrop.BadAddress);
            return;
        }
        fixed (byte* p = payload)
        {
            nint sent;
            do
                sent = TurnNative.SendTo(relay.Fd, p, (nuint)payload.Length, TurnNative.MsgDontWait, sockaddr, (uint)nameLength);
            while (sent < 0 && Marshal.GetLastPInvokeError() == TurnNative.EINTR);
            if (sent < 0)
                HostCounters.Increment(TurnHostDrop.SendError);
        }
    }

    private void FlushListeners()
    {
        foreach (var listener in _listeners)
            if (listener.Tx!.Count > 0)
                Flush(listener);
    }

    private void Flush(Entry listener)
    {
        listener.Tx!.Send(listener.Socket.SafeHandle, out int errors);
        if (errors > 0)
            HostCounters.Add(TurnHostDrop.SendError, errors);
    }

    private void DrainInbox()
    {
        long now = MediaLoop.NowMicros();
        if (!_tcpEvents.IsEmpty)
            DrainTcpEvents(now);
        for (int budget = MaxInbox; budget > 0 && _inbox.TryDequeue(out var input); budget--)
        {
            Interlocked.Decrement(ref _inboxCount);
            var connection = input.Connection;
            if (input.Buffer is null && input.Length == IdleCheck)
            {
                CheckIdle(connection, now);
                continue;
            }
            if (input.Buffer is null)
            {
                _streams.Remove(connection.FiveTuple);
                _server.CloseConnection(connection.FiveTuple);
                continue;
            }
            uint spliceId = 0;
            bool bind = input.Length >= 2 && input.Buffer[0] == 0x00 && input.Buffer[1] == 0x0B; // ConnectionBind: its reader waits
            try
            {
                _streams.TryAdd(connection.FiveTuple, connection);
                var message = input.Buffer.AsSpan(0, input.Length);
                if (_config.NoStun && IsBindingRequest(message))
                {
                    HostCounters.Increment(TurnHostDrop.StunDisabled);
                    continue;
                }
                _splicePeer = null;
                var action = _server.HandleClientMessage(message, connection.FiveTuple, now, _scratch, out int length, out var relay, out var peer);
                if (action == TurnAction.ToClient)
                    connection.Enqueue(_scratch.AsSpan(0, length));
                else if (action == TurnAction.ToPeer)
                    SendToPeer(relay, peer, _scratch.AsSpan(0, length));
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(input.Buffer);
                // A ConnectionBind's reader waits for this: the peer to splice once the answer above is written, or null.
                var splice = _splicePeer;
                _splicePeer = null;
                if (splice is not null && !_server.TryGetTcpConnectionId(connection.FiveTuple, out spliceId))
                    splice = null;
                if (bind)
                    connection.ResolveBind(splice, spliceId);
                else
                    splice?.Dispose();
            }
        }
    }

    private void CheckIdle(TurnStreamConnection connection, long now)
    {
        // A spliced RFC 6062 data connection holds no allocation of its own: its control connection's counts.
        if (_server.HasAllocation(connection.FiveTuple, now) || connection.Spliced || _server.IsTcpDataConnection(connection.FiveTuple))
        {
            connection.IdleSinceMicros = now;
            return;
        }
        if (now - connection.IdleSinceMicros < _idleTimeoutMicros)
            return;
        HostCounters.Increment(TurnHostDrop.IdleTimeout);
        connection.IdleSinceMicros = long.MaxValue / 2; // counted once, however many checks are still queued
        // Off this thread: cancelling runs the connection's continuations, which are not the TURN loop's to run.
        ThreadPool.UnsafeQueueUserWorkItem(static c => c.Abort(), connection, preferLocal: false);
    }

    private static bool IsBindingRequest(ReadOnlySpan<byte> message) => message.Length >= 2 && message[0] == 0 && message[1] == 1;

    // ---- stream clients (their own tasks) ----

    /// <summary>From a connection's reader: one framed message (a pooled copy, returned by the TURN thread), or null when it closed.</summary>
    internal unsafe bool Post(TurnStreamConnection connection, byte[]? buffer, int length)
    {
        if (_stopping)
        {
            // Shutting down: the eventfd may be closed (and its number reused) soon.
            if (buffer != null)
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            return false;
        }
        if (buffer != null && Interlocked.Increment(ref _inboxCount) > MaxInbox)
        {
            Interlocked.Decrement(ref _inboxCount);
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            HostCounters.Increment(TurnHostDrop.InboxFull);
            return false;
        }
        if (buffer == null)
        {
            Interlocked.Increment(ref _inboxCount);
            if (_connections.TryRemove(connection, out _))
                ReturnIpSlot(connection.RemoteIp);
        }
        _inbox.Enqueue(new StreamInput(connection, buffer, length));
        _wake.Signal();
        return true;
    }

    /// <summary>From a connection's watchdog: the TURN thread checks whether it still holds an allocation.</summary>
    internal unsafe void PostIdleCheck(TurnStreamConnection connection)
    {
        if (_stopping)
            return;
        Interlocked.Increment(ref _inboxCount);
        _inbox.Enqueue(new StreamInput(connection, null, IdleCheck));
        _wake.Signal();
    }

    private bool TryTakeIpSlot(IPAddress ip)
    {
        while (true)
        {
            if (!_connectionsPerIp.TryGetValue(ip, out int n))
            {
                if (_connectionsPerIp.TryAdd(ip, 1))
                    return true;
                continue;
            }
            if (n >= MaxConnectionsPerIp)
                return false;
            if (_connectionsPerIp.TryUpdate(ip, n + 1, n))
                return true;
        }
    }

    private void ReturnIpSlot(IPAddress ip)
    {
        while (_connectionsPerIp.TryGetValue(ip, out int n))
        {
            if (n <= 1 ? _connectionsPerIp.TryRemove(new KeyValuePair<IPAddress, int>(ip, n)) : _connectionsPerIp.TryUpdate(ip, n - 1, n))
                return;
        }
    }

    private async Task AcceptLoopAsync(Socket listener, bool tls)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                if (_stop.IsCancellationRequested)
                    return;
                HostCounters.Increment(TurnHostDrop.AcceptError);
                await Task.Delay(10);
                continue;
            }
            if (_connections.Count >= MaxConnections)
            {
                HostCounters.Increment(TurnHostDrop.TooManyConnections);
                socket.Dispose();
                continue;
            }
            TurnStreamConnection connection;
            try
            {
                connection = new TurnStreamConnection(this, socket, tls ? _tlsCertificate : null, HostCounters, _idleCheck);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                HostCounters.Increment(TurnHostDrop.AcceptError); // reset before we looked at it
                socket.Dispose();
                continue;
            }
            if (!TryTakeIpSlot(connection.RemoteIp))
            {
                HostCounters.Increment(TurnHostDrop.TooManyConnectionsFromIp);
                socket.Dispose();
                continue;
            }
            _connections[connection] = 0;
            _ = connection.RunAsync(_stop.Token);
        }
    }

    // ---- IRelayPortAllocator (called by the core on the TURN thread) ----

    bool IRelayPortAllocator.TryAllocate(bool ipv6, bool evenPort, out NetAddress relayAddress)
    {
        relayAddress = default;
        var ip = ipv6 ? _relayIPv6 : _relayIPv4;
        if (ip is null)
            return false;
        int span = _config.MaxPort - _config.MinPort + 1;
        for (int attempt = 0; attempt < 64; attempt++)
        {
            // RFC 8656 §7.2 and RFC 6056: relayed ports are random within the range.
            int port = _config.MinPort + Random.Shared.Next(span);
            if (evenPort)
                port &= ~1;
            if (port < _config.MinPort)
                port += 2;
            if (port > _config.MaxPort)
                continue;
            var socket = TryBindRelay(ip, port);
            if (socket is null)
                continue;
            relayAddress = AddRelay(socket, ip, port);
            return true;
        }
        HostCounters.Increment(TurnHostDrop.NoRelayPort);
        return false;
    }

    // RFC 8656 §7.2, EVEN-PORT with R: ports N (even) and N+1 both bound now, so N+1 stays ours while reserved.
    bool IRelayPortAllocator.TryAllocatePair(bool ipv6, out NetAddress relayAddress, out NetAddress reservedAddress)
    {
        relayAddress = reservedAddress = default;
        var ip = ipv6 ? _relayIPv6 : _relayIPv4;
        if (ip is null)
            return false;
        int first = (_config.MinPort + 1) & ~1; // lowest even port in the range
        int pairs = (_config.MaxPort - first + 1) / 2;
        for (int attempt = 0; attempt < 64 && pairs > 0; attempt++)
        {
            int port = first + 2 * Random.Shared.Next(pairs);
            var even = TryBindRelay(ip, port);
            if (even is null)
                continue;
            var odd = TryBindRelay(ip, port + 1);
            if (odd is null)
            {
                even.Dispose();
                continue;
            }
            relayAddress = AddRelay(even, ip, port);
            reservedAddress = AddRelay(odd, ip, port + 1);
            return true;
        }
        HostCounters.Increment(TurnHostDrop.NoRelayPort);
        return false;
    }

    void IRelayPortAllocator.SetDontFragment(in NetAddress relayAddress)
    {
        if (!_relayByAdvertised.TryGetValue(relayAddress, out var entry))
            return;
        Span<byte> value = stackalloc byte[4];
        try
        {
            // Per socket, so per allocation: a Send indication's own DONT-FRAGMENT does not toggle it.
            if (entry.IPv6Socket)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(value, 1);
                entry.Socket.SetRawSocketOption(IpProtoIpv6, Ipv6DontFrag, value);
            }
            else
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(value, IpPmtuDiscDo);
                entry.Socket.SetRawSocketOption(IpProtoIp, IpMtuDiscover, value);
            }
        }
        catch (SocketException)
        {
            HostCounters.Increment(TurnHostDrop.SendError);
        }
    }

    /// <summary>
    /// Tests: an int socket option of the relayed socket behind this address, or null when there is none.
    /// Reads the TURN thread's table, so only while that thread is not allocating.
    /// </summary>
    internal int? RelaySocketOption(in NetAddress relayAddress, int level, int name)
    {
        if (!_relayByAdvertised.TryGetValue(relayAddress, out var entry))
            return null;
        Span<byte> value = stackalloc byte[4];
        return entry.Socket.GetRawSocketOption(level, name, value) == 4 ? System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(value) : null;
    }

    private static Socket? TryBindRelay(IPAddress ip, int port)
    {
        var socket = new Socket(ip.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(ip, port));
            socket.Blocking = false;
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    private NetAddress AddRelay(Socket socket, IPAddress ip, int port)
    {
        var local = NetAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!);
        var entry = Register(socket, isListener: false, local, Advertise(ip, (ushort)port));
        _relayByAdvertised[entry.Advertised] = entry;
        return entry.Advertised;
    }

    void IRelayPortAllocator.Release(in NetAddress relayAddress)
    {
        if (!_relayByAdvertised.Remove(relayAddress, out var entry))
            return;
        if (_peerTxRelay == entry)
        {
            FlushPeers(); // its datagrams leave before its socket closes
            _peerTxRelay = null;
        }
        _entries[entry.Index] = null;
        _freeEntries.Push(entry.Index);
        entry.Socket.Dispose(); // closing the fd takes it out of the epoll set
    }

    private NetAddress Advertise(IPAddress bound, ushort port)
    {
        foreach (var (pub, priv) in _config.ExternalIps)
            if (priv is null ? pub.AddressFamily == bound.AddressFamily : priv.Equals(bound))
                return NetAddress.FromIPEndPoint(new IPEndPoint(pub, port)).UnmapIPv4();
        return NetAddress.FromIPEndPoint(new IPEndPoint(bound, port)).UnmapIPv4();
    }

    // ---- set-up ----

    private void AddUdpListener(IPEndPoint bind)
    {
        var socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (bind.AddressFamily == AddressFamily.InterNetworkV6 && bind.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true;
            socket.ReceiveBufferSize = 4 * 1024 * 1024;
            socket.SendBufferSize = 4 * 1024 * 1024;
            socket.Bind(bind);
            socket.Blocking = false;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var local = NetAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!).UnmapIPv4();
        var entry = Register(socket, isListener: true, local, local);
        entry.Tx = new UdpBatch(BatchSize, SlotBytes);
        _listeners.Add(entry);
        _listenerByLocal[local] = entry;
        _listening.Add($"udp {socket.LocalEndPoint}");
    }

    private Socket Listen(IPEndPoint bind, bool tls)
    {
        var socket = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (bind.AddressFamily == AddressFamily.InterNetworkV6 && bind.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true;
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(bind);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _listening.Add($"{(tls ? "tls" : "tcp")} {socket.LocalEndPoint}");
        return socket;
    }

    private unsafe Entry Register(Socket socket, bool isListener, NetAddress local, NetAddress advertised)
    {
        int index = _freeEntries.Count > 0 ? _freeEntries.Pop() : _entries.Count;
        var entry = new Entry(socket, index, isListener, local, advertised);
        if (index == _entries.Count)
            _entries.Add(entry);
        else
            _entries[index] = entry;
        var ev = new TurnNative.EpollEvent { Events = TurnNative.EpollIn, Data = (ulong)index };
        if (TurnNative.EpollCtl(_epoll, TurnNative.EpollCtlAdd, entry.Fd, &ev) != 0)
            throw new SocketException(Marshal.GetLastPInvokeError());
        return entry;
    }

    private static (IPAddress? V4, IPAddress? V6) ChooseRelayAddresses(TurnConfig config, IPAddress[] listenIps)
    {
        IPAddress? v4 = null, v6 = null;
        IEnumerable<IPAddress> candidates = config.RelayIps.Count > 0 ? config.RelayIps
            : listenIps.Where(ip => !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any));
        foreach (var ip in candidates)
        {
            var a = ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;
            if (a.AddressFamily == AddressFamily.InterNetwork)
                v4 ??= a;
            else
                v6 ??= a;
        }
        if (v4 is null && v6 is null)
        {
            // As coturn: with no relay-ip and a wildcard listener, relay from an address of this host.
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                    continue;
                foreach (var u in nic.GetIPProperties().UnicastAddresses)
                {
                    if (u.Address.AddressFamily == AddressFamily.InterNetwork)
                        v4 ??= u.Address;
                    else if (u.Address.AddressFamily == AddressFamily.InterNetworkV6 && !u.Address.IsIPv6LinkLocal)
                        v6 ??= u.Address;
                }
            }
            v4 ??= IPAddress.Loopback;
        }
        return (v4, v6);
    }

    /// <summary>[TURN] cert/pkey, else [WEBRTC] DTLSCER/DTLSKEY, else a self-signed ECDSA P-256 certificate.</summary>
    private static X509Certificate2 LoadCertificate(string? certPath, string? keyPath)
    {
        X509Certificate2 cert;
        if (certPath != null && keyPath != null)
        {
            cert = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        }
        else
        {
            using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=engine-turn", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        }
        // SslStream on Linux wants the key attached as it is after a PKCS#12 round trip.
        using (cert)
            return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Where the media port is reachable: its address, or every address of this host when it is bound to all.</summary>
    public static List<IPEndPoint> MediaAddresses(IPEndPoint bound)
    {
        var list = new List<IPEndPoint>();
        if (!bound.Address.Equals(IPAddress.Any) && !bound.Address.Equals(IPAddress.IPv6Any))
        {
            list.Add(bound);
            return list;
        }
        list.Add(new IPEndPoint(IPAddress.Loopback, bound.Port));
        list.Add(new IPEndPoint(IPAddress.IPv6Loopback, bound.Port));
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            foreach (var u in nic.GetIPProperties().UnicastAddresses)
                list.Add(new IPEndPoint(u.Address, bound.Port));
        return list;
    }

    private static long UnixNowMicros() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;

    public void Dispose()
    {
        _stopping = true;
        _stop.Cancel();
        foreach (var (l, _) in _streamListeners)
            l.Dispose();
        foreach (var c in _connections.Keys)
            c.Abort();
        if (_thread is { IsAlive: true })
            _thread.Join(2000);
        DisposeTcp();
        foreach (var e in _entries)
            e?.Socket.Dispose();
        foreach (var l in _listeners)
            l.Tx?.Dispose();
        _rx.Dispose();
        _peerTx.Dispose();
        _wake.Dispose();
        if (_epoll >= 0)
            TurnNative.Close(_epoll);
        _tlsCertificate?.Dispose();
    }

    private readonly record struct StreamInput(TurnStreamConnection Connection, byte[]? Buffer, int Length);

    private sealed class Entry(Socket socket, int index, bool isListener, NetAddress local, NetAddress advertised)
    {
        public readonly Socket Socket = socket;
        public readonly int Fd = (int)socket.SafeHandle.DangerousGetHandle();
        public readonly int Index = index;
        public readonly bool IsListener = isListener;
        public readonly bool IPv6Socket = socket.AddressFamily == AddressFamily.InterNetworkV6;
        public readonly NetAddress Local = local;
        public readonly NetAddress Advertised = advertised;
        public UdpBatch? Tx;
        public Entry? ClientListener;
    }
}
