using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Engine.Host.Logging;
using Engine.Ice;

namespace Engine.Host.Transport;

/// <summary>
/// The I/O shell of the media path: one UDP socket shared by every session (the legacy
/// WEBRTCPORTSTART), one thread that receives, demultiplexes (RFC 7983), routes (STUN by ufrag,
/// the rest by remote address), runs each session to completion, sends what it produced and fires
/// its timers. Sessions are added and removed from other threads through a command queue.
/// Per-datagram work allocates nothing (the SocketAddress overloads of ReceiveFrom/SendTo).
/// </summary>
public sealed class MediaLoop : IDisposable
{
    public const int MaxDatagram = 2048;
    private const int MaxWaitMicros = 5_000; // bounds how long a queued command waits
    private const int MaxDatagramsPerWake = 256;

    private readonly Socket _socket;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<(IMediaSession Session, bool Add)> _commands = new();
    private readonly Dictionary<string, IMediaSession> _byUfrag = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IMediaSession>.AlternateLookup<ReadOnlySpan<char>> _byUfragSpan;
    private readonly Dictionary<NetAddress, IMediaSession> _byAddress = new();
    private readonly Dictionary<IMediaSession, NetAddress?> _addressOf = new(ReferenceEqualityComparer.Instance);
    private readonly PriorityQueue<IMediaSession, long> _timers = new();
    private readonly byte[] _receiveBuffer = new byte[MaxDatagram];
    private readonly byte[] _sendBuffer = new byte[MaxDatagram];
    private readonly SocketAddress _receiveAddress;
    private readonly SocketAddress _sendAddress;
    private volatile bool _stopping;

    public MediaLoop(IPEndPoint bind)
    {
        _socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (bind.AddressFamily == AddressFamily.InterNetworkV6)
            _socket.DualMode = true;
        _socket.ReceiveBufferSize = 4 * 1024 * 1024;
        _socket.SendBufferSize = 4 * 1024 * 1024;
        _socket.Bind(bind);
        _socket.Blocking = false;
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _receiveAddress = new SocketAddress(_socket.AddressFamily);
        _sendAddress = new SocketAddress(_socket.AddressFamily);
        _byUfragSpan = _byUfrag.GetAlternateLookup<ReadOnlySpan<char>>();
        _thread = new Thread(Run) { IsBackground = true, Name = "media-loop" };
    }

    public IPEndPoint LocalEndPoint { get; }
    public MediaLoopCounters Counters { get; } = new();
    /// <summary>Sessions on the loop (read from other threads for /api/streams: a snapshot value).</summary>
    public int SessionCount => Volatile.Read(ref _sessionCount);
    private int _sessionCount;

    /// <summary>Bytes the loop thread has allocated (updated at each wake-up): per-packet work must leave it flat.</summary>
    public long AllocatedBytes => Volatile.Read(ref _allocatedBytes);
    private long _allocatedBytes;

    public void Start() => _thread.Start();

    /// <summary>Thread-safe: the session joins the loop at its next wake-up.</summary>
    public void Add(IMediaSession session) => _commands.Enqueue((session, true));

    /// <summary>Thread-safe: the session leaves the loop at its next wake-up (its OnRemoved runs there).</summary>
    public void Remove(IMediaSession session) => _commands.Enqueue((session, false));

    public static long NowMicros() => Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);

    private void Run()
    {
        while (!_stopping)
        {
            Volatile.Write(ref _allocatedBytes, GC.GetAllocatedBytesForCurrentThread());
            RunCommands();
            long now = NowMicros();
            RunTimers(now);
            long wait = MaxWaitMicros;
            if (_timers.TryPeek(out _, out long due))
                wait = Math.Clamp(due - now, 0, MaxWaitMicros);
            try
            {
                if (!_socket.Poll((int)wait, SelectMode.SelectRead))
                    continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            RunCommands(); // a session added while we waited must see its first check
            for (int i = 0; i < MaxDatagramsPerWake && !_stopping; i++)
            {
                int n;
                try
                {
                    // A non-blocking receive on an empty socket throws: ask first (FIONREAD, no allocation).
                    if (i > 0 && _socket.Available == 0)
                        break;
                    n = _socket.ReceiveFrom(_receiveBuffer, SocketFlags.None, _receiveAddress);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    break;
                }
                catch (SocketException)
                {
                    Counters.ReceiveErrors++; // ICMP port unreachable and the like: not fatal for a shared socket
                    continue;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                Counters.DatagramsReceived++;
                if (!NetAddress.TryFromSocketAddress(_receiveAddress, out var from))
                {
                    Counters.DroppedBadAddress++;
                    continue;
                }
                Dispatch(_receiveBuffer.AsSpan(0, n), from.UnmapIPv4(), NowMicros());
            }
        }
        foreach (var s in _addressOf.Keys.ToList())
            Forget(s);
    }

    private void Dispatch(Span<byte> datagram, NetAddress from, long now)
    {
        IMediaSession? session;
        var kind = DatagramDemux.Classify(datagram);
        if (kind == DatagramKind.Stun)
        {
            // Checks and consent refreshes always carry our ufrag; anything else is not for us.
            session = FindByUfrag(datagram);
            if (session == null)
            {
                Counters.DroppedUnknownUfrag++;
                return;
            }
        }
        else if (kind is DatagramKind.Dtls or DatagramKind.Rtp or DatagramKind.Rtcp)
        {
            if (!_byAddress.TryGetValue(from, out session))
            {
                Counters.DroppedUnknownAddress++;
                return;
            }
        }
        else
        {
            Counters.DroppedUnknownKind++;
            return;
        }
        try
        {
            session.HandleDatagram(datagram, from, now);
        }
        catch (Exception e)
        {
            // A bug in one session must not take the loop (and every other session) down.
            Counters.SessionFaults++;
            Log.Error($"session {session.LocalUfrag} faulted: {e}");
            Forget(session);
            return;
        }
        AfterInput(session, now);
    }

    /// <summary>STUN USERNAME is "ourUfrag:theirUfrag" on checks sent to us (RFC 8445 §7.2.2).</summary>
    private IMediaSession? FindByUfrag(ReadOnlySpan<byte> datagram)
    {
        if (!StunMessageView.TryRead(datagram, out var stun) || !stun.TryGetUsername(out var user))
            return null;
        int colon = user.IndexOf((byte)':');
        var ufrag = colon < 0 ? user : user[..colon];
        if (ufrag.Length is 0 or > 256)
            return null;
        Span<char> chars = stackalloc char[ufrag.Length];
        for (int i = 0; i < ufrag.Length; i++)
        {
            if (ufrag[i] > 0x7f)
                return null; // ICE ufrags are ice-chars (RFC 8839 §5.4): ASCII
            chars[i] = (char)ufrag[i];
        }
        return _byUfragSpan.TryGetValue(chars, out var s) ? s : null;
    }

    private void AfterInput(IMediaSession session, long now)
    {
        Flush(session);
        var selected = session.SelectedRemote;
        if (_addressOf.TryGetValue(session, out var known) && !Nullable.Equals(known, selected))
        {
            if (known is { } old && _byAddress.TryGetValue(old, out var holder) && ReferenceEquals(holder, session))
                _byAddress.Remove(old);
            if (selected is { } addr)
                _byAddress[addr] = session;
            _addressOf[session] = selected;
        }
        if (session.IsClosed)
        {
            Forget(session);
            return;
        }
        long due = session.NextTimeoutMicros;
        if (due != long.MaxValue)
            _timers.Enqueue(session, Math.Max(due, now + 1)); // a deadline in the past must not spin this pass
    }

    private void Flush(IMediaSession session)
    {
        for (int i = 0; i < 10_000 && session.TryPollTransmit(_sendBuffer, out int length, out var to); i++)
        {
            if (!to.TryWriteTo(_sendAddress))
            {
                Counters.DroppedBadAddress++;
                continue;
            }
            try
            {
                _socket.SendTo(_sendBuffer.AsSpan(0, length), SocketFlags.None, _sendAddress);
                Counters.DatagramsSent++;
            }
            catch (SocketException)
            {
                Counters.SendErrors++; // a full send buffer drops, as UDP would
            }
        }
    }

    private void RunTimers(long now)
    {
        while (_timers.TryPeek(out var session, out long due) && due <= now)
        {
            _timers.Dequeue();
            // Entries are not removed when a deadline moves: an entry fires only if the session is
            // still here and really due (a later deadline always has its own entry).
            if (!_addressOf.ContainsKey(session) || session.NextTimeoutMicros > now)
                continue;
            try
            {
                session.HandleTimeout(now);
            }
            catch (Exception e)
            {
                Counters.SessionFaults++;
                Log.Error($"session {session.LocalUfrag} faulted in a timer: {e}");
                Forget(session);
                continue;
            }
            AfterInput(session, now);
        }
    }

    private void RunCommands()
    {
        while (_commands.TryDequeue(out var c))
        {
            if (c.Add)
            {
                if (!_byUfrag.TryAdd(c.Session.LocalUfrag, c.Session))
                {
                    Counters.SessionFaults++;
                    continue;
                }
                _addressOf[c.Session] = null;
                Interlocked.Increment(ref _sessionCount);
                long due = c.Session.NextTimeoutMicros;
                if (due != long.MaxValue)
                    _timers.Enqueue(c.Session, due);
            }
            else
            {
                Forget(c.Session);
            }
        }
    }

    private void Forget(IMediaSession session)
    {
        if (!_addressOf.Remove(session, out var addr))
            return;
        if (addr is { } a && _byAddress.TryGetValue(a, out var holder) && ReferenceEquals(holder, session))
            _byAddress.Remove(a);
        _byUfrag.Remove(session.LocalUfrag);
        // Its pending timer entries would keep the session (and its buffers) alive until they fire.
        while (_timers.Remove(session, out _, out _, ReferenceEqualityComparer.Instance)) { }
        Interlocked.Decrement(ref _sessionCount);
        try
        {
            session.OnRemoved();
        }
        catch (Exception e)
        {
            Log.Error($"session {session.LocalUfrag} faulted while removed: {e}");
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive)
            _thread.Join(TimeSpan.FromSeconds(2));
        _socket.Dispose();
    }
}
