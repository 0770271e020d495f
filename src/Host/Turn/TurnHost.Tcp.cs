using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Engine.Ice;
using Engine.Ice.Turn;

namespace Engine.Host.Turn;

/// <summary>
/// RFC 6062 TCP allocations, the host side of <see cref="ITurnTcpRelay"/>: relayed TCP listeners,
/// outgoing peer connections and the splice of a peer connection with its client data connection.
/// The core decides on the TURN thread; accepts, connects and the splice's copying run as tasks,
/// and what they learn comes back to the TURN thread through a queue, so nothing here blocks it.
/// A peer connection is not read before it is spliced: the kernel's buffer holds what the peer
/// sends until then, and TCP's own flow control pushes back.
/// </summary>
public sealed partial class TurnHost : ITurnTcpRelay
{
    // Linux SOL_SOCKET/SO_REUSEPORT: an outgoing peer connection binds the relayed port its listener holds (RFC 6062 §5.2).
    private const int SolSocket = 1, SoReusePort = 15;
    // RFC 6062 §5.2: a Connect's attempt lasts at least 30 s before 447.
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<NetAddress, TcpRelayListener> _tcpListeners = new();
    private readonly HashSet<(IPAddress, int)> _tcpPortsInUse = new();
    private readonly Dictionary<uint, TcpPeer> _tcpPeers = new();
    private readonly ConcurrentQueue<TcpEvent> _tcpEvents = new();
    // Set by Splice while the core answers a ConnectionBind; handed to the data connection once the answer is queued.
    private Socket? _splicePeer;

    private sealed class TcpRelayListener(Socket socket, IPAddress ip, int port, NetAddress advertised)
    {
        public readonly Socket Socket = socket;
        public readonly IPAddress Ip = ip;
        public readonly int Port = port;
        public readonly NetAddress Advertised = advertised;
        public volatile bool Closed;
    }

    private sealed class TcpPeer(uint id)
    {
        public readonly uint Id = id;
        public Socket? Socket;
        public CancellationTokenSource? Connecting;
        public TurnStreamConnection? Data;
    }

    private enum TcpEventKind : byte { Accepted, Connected, ConnectFailed, SpliceEnded }

    private sealed record TcpEvent(TcpEventKind Kind, uint Id, NetAddress Relay, Socket? Socket);

    private unsafe void PostTcp(TcpEvent e)
    {
        if (_stopping)
        {
            e.Socket?.Dispose();
            return;
        }
        _tcpEvents.Enqueue(e);
        _wake.Signal();
    }

    /// <summary>From a data connection whose splice ended (either side closed or failed).</summary>
    internal void PostSpliceEnded(uint id) => PostTcp(new TcpEvent(TcpEventKind.SpliceEnded, id, default, null));

    // ---- ITurnTcpRelay (the TURN thread) ----

    bool ITurnTcpRelay.TryListen(bool ipv6, out NetAddress relayAddress)
    {
        relayAddress = default;
        var ip = ipv6 ? _relayIPv6 : _relayIPv4;
        if (ip is null)
            return false;
        int span = _config.MaxPort - _config.MinPort + 1;
        for (int attempt = 0; attempt < 64; attempt++)
        {
            int port = _config.MinPort + Random.Shared.Next(span);
            // SO_REUSEPORT would let a second listener of ours share a port: our own set says which are taken.
            if (_tcpPortsInUse.Contains((ip, port)))
                continue;
            var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                ReusePort(socket);
                socket.Bind(new IPEndPoint(ip, port));
                socket.Listen(64);
            }
            catch (SocketException)
            {
                socket.Dispose();
                continue;
            }
            var listener = new TcpRelayListener(socket, ip, port, Advertise(ip, (ushort)port));
            _tcpListeners[listener.Advertised] = listener;
            _tcpPortsInUse.Add((ip, port));
            _ = AcceptPeersAsync(listener);
            relayAddress = listener.Advertised;
            return true;
        }
        HostCounters.Increment(TurnHostDrop.NoRelayPort);
        return false;
    }

    void ITurnTcpRelay.CloseListener(in NetAddress relayAddress)
    {
        if (!_tcpListeners.Remove(relayAddress, out var listener))
            return;
        _tcpPortsInUse.Remove((listener.Ip, listener.Port));
        listener.Closed = true;
        listener.Socket.Dispose(); // ends its accept loop
    }

    void ITurnTcpRelay.Connect(uint connectionId, in NetAddress relayAddress, in NetAddress peer)
    {
        var p = new TcpPeer(connectionId) { Connecting = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token) };
        _tcpPeers[connectionId] = p;
        if (!_tcpListeners.TryGetValue(relayAddress, out var listener))
        {
            PostTcp(new TcpEvent(TcpEventKind.ConnectFailed, connectionId, relayAddress, null));
            return;
        }
        _ = ConnectPeerAsync(connectionId, listener.Ip, listener.Port, peer.ToIPEndPoint(), p.Connecting.Token);
    }

    void ITurnTcpRelay.Splice(uint connectionId, in TurnFiveTuple dataConnection)
    {
        if (!_tcpPeers.TryGetValue(connectionId, out var p) || p.Socket is null || !_streams.TryGetValue(dataConnection, out var data))
            return; // DrainInbox finds no peer to hand over; the data connection closes
        p.Data = data;
        _splicePeer = p.Socket;
    }

    void ITurnTcpRelay.Close(uint connectionId)
    {
        if (!_tcpPeers.Remove(connectionId, out var p))
            return;
        ClosePeer(p);
    }

    private void ClosePeer(TcpPeer p)
    {
        if (p.Connecting is { } cts)
        {
            p.Connecting = null;
            ThreadPool.UnsafeQueueUserWorkItem(static c =>
            {
                c.Cancel();
                c.Dispose();
            }, cts, preferLocal: false);
        }
        if (p.Data is { } data)
            ThreadPool.UnsafeQueueUserWorkItem(static c => c.Abort(), data, preferLocal: false); // its splice owns the peer socket
        else
            p.Socket?.Dispose();
    }

    // ---- the TURN thread: what the tasks learnt ----

    private void DrainTcpEvents(long now)
    {
        for (int budget = MaxInbox; budget > 0 && _tcpEvents.TryDequeue(out var e); budget--)
        {
            try
            {
                HandleTcpEvent(e, now);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                HostCounters.Increment(TurnHostDrop.Fault);
                e.Socket?.Dispose();
                Engine.Host.Logging.Log.Error($"turn tcp: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    private void HandleTcpEvent(TcpEvent e, long now)
    {
        switch (e.Kind)
        {
            case TcpEventKind.Accepted:
            {
                var socket = e.Socket!;
                NetAddress peer;
                try
                {
                    peer = NetAddress.FromIPEndPoint((IPEndPoint)socket.RemoteEndPoint!).UnmapIPv4();
                }
                catch (SocketException)
                {
                    socket.Dispose();
                    return;
                }
                var action = _server.HandlePeerConnectionAccepted(e.Relay, peer, now, _scratch, out int length, out var client, out uint id);
                if (action != TurnAction.ToClient)
                {
                    socket.Dispose(); // no permission, no allocation, or too many: RFC 6062 §5.3 closes it
                    return;
                }
                _tcpPeers[id] = new TcpPeer(id) { Socket = socket };
                SendToClient(client, _scratch.AsSpan(0, length));
                return;
            }
            case TcpEventKind.Connected:
            case TcpEventKind.ConnectFailed:
            {
                bool connected = e.Kind == TcpEventKind.Connected;
                if (_tcpPeers.TryGetValue(e.Id, out var p))
                {
                    p.Connecting?.Dispose();
                    p.Connecting = null;
                    p.Socket = e.Socket;
                }
                var action = _server.HandlePeerConnectResult(e.Id, connected && p is not null, now, _scratch, out int length, out var client);
                if (action == TurnAction.ToClient)
                    SendToClient(client, _scratch.AsSpan(0, length));
                if (!connected || action != TurnAction.ToClient || p is null)
                {
                    // Failed (447 sent), or the allocation is gone: nothing of it stays.
                    _tcpPeers.Remove(e.Id);
                    e.Socket?.Dispose();
                }
                return;
            }
            case TcpEventKind.SpliceEnded:
                _tcpPeers.Remove(e.Id);
                _server.HandleTcpConnectionClosed(e.Id);
                return;
        }
    }

    // ---- tasks ----

    private async Task AcceptPeersAsync(TcpRelayListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.Socket.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                if (listener.Closed || _stop.IsCancellationRequested || e is not SocketException se)
                    return; // closed with its allocation, or shutting down
                if (se.SocketErrorCode is not (SocketError.ConnectionAborted or SocketError.ConnectionReset))
                {
                    HostCounters.Increment(TurnHostDrop.AcceptError); // out of descriptors, say: try again soon
                    await Task.Delay(10);
                }
                continue; // one peer gave up in the backlog
            }
            try
            {
                socket.NoDelay = true;
            }
            catch (SocketException)
            {
                socket.Dispose();
                continue;
            }
            PostTcp(new TcpEvent(TcpEventKind.Accepted, 0, listener.Advertised, socket));
        }
    }

    private async Task ConnectPeerAsync(uint id, IPAddress ip, int port, IPEndPoint peer, CancellationToken token)
    {
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            ReusePort(socket);
            try
            {
                socket.Bind(new IPEndPoint(ip, port)); // from the relayed transport address
            }
            catch (SocketException)
            {
                socket.Bind(new IPEndPoint(ip, 0)); // the same IP at least
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(ConnectTimeout);
            await socket.ConnectAsync(peer, timeout.Token);
            socket.NoDelay = true;
            PostTcp(new TcpEvent(TcpEventKind.Connected, id, default, socket));
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            socket.Dispose();
            PostTcp(new TcpEvent(TcpEventKind.ConnectFailed, id, default, null));
        }
    }

    private static void ReusePort(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        if (OperatingSystem.IsLinux())
        {
            Span<byte> one = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(one, 1);
            socket.SetRawSocketOption(SolSocket, SoReusePort, one);
        }
    }

    private void DisposeTcp()
    {
        foreach (var l in _tcpListeners.Values)
            l.Socket.Dispose();
        foreach (var p in _tcpPeers.Values)
            p.Socket?.Dispose();
        while (_tcpEvents.TryDequeue(out var e))
            e.Socket?.Dispose();
    }
}
