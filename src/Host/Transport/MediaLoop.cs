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
/// Datagrams come in and go out in batches (recvmmsg/sendmmsg, 64 a call); every session touched
/// by a batch is flushed at its end; each session has at most one timer entry. Per-datagram work
/// allocates nothing, and a send the kernel refuses is a counted drop, not an exception.
/// </summary>
public sealed class MediaLoop : IDisposable
{
    public const int MaxDatagram = 2048;
    // Commands wake the loop through _wake and sessions have timers, so an idle loop sleeps; this only bounds a lost wake.
    private const int MaxIdleWaitMicros = 1_000_000;
    private const int MaxDatagramsPerWake = 256;
    private const int BatchSize = 64; // datagrams per recvmmsg/sendmmsg

    private readonly Socket _socket;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<(IMediaSession? Session, bool Add, Action? Action)> _commands = new();
    private readonly Dictionary<string, IMediaSession> _byUfrag = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IMediaSession>.AlternateLookup<ReadOnlySpan<char>> _byUfragSpan;
    private readonly Dictionary<NetAddress, IMediaSession> _byAddress = new();
    private readonly Dictionary<IMediaSession, NetAddress?> _addressOf = new(ReferenceEqualityComparer.Instance);
    private readonly TimerHeap<IMediaSession> _timers = new();
    private readonly List<IMediaSession> _dirty = new();
    private readonly HashSet<IMediaSession> _dirtySet = new(ReferenceEqualityComparer.Instance);
    private readonly UdpBatch _rx = new(BatchSize, MaxDatagram);
    private readonly UdpBatch _tx = new(BatchSize, MaxDatagram);
    private readonly WakeSignal _wake = new();
    private readonly bool _ipv6Socket;
    private readonly bool _kernelTimestamps;
    private long _lastArrivalMicros = long.MinValue;
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
        _ipv6Socket = UdpBatch.IsIPv6(_socket);
        // Arrival times for the delay estimates (transport-cc, REMB) from the kernel, so a media
        // thread that was descheduled does not read as a queue on the path. Debug: RTP_KERNEL_TIMESTAMPS=0 turns it off.
        _kernelTimestamps = Environment.GetEnvironmentVariable("RTP_KERNEL_TIMESTAMPS") != "0" && _rx.EnableTimestamps(_socket.SafeHandle);
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

    /// <summary>Timer entries (at most one per session), published at each wake-up.</summary>
    public int TimerEntries => Volatile.Read(ref _timerEntries);
    private int _timerEntries;

    public void Start() => _thread.Start();

    /// <summary>Thread-safe: the session joins the loop at its next wake-up.</summary>
    public void Add(IMediaSession session) => Enqueue((session, true, null));

    /// <summary>Thread-safe: the session leaves the loop at its next wake-up (its OnRemoved runs there).</summary>
    public void Remove(IMediaSession session) => Enqueue((session, false, null));

    /// <summary>
    /// Thread-safe: <paramref name="action"/> runs on the loop thread at its next wake-up, in order
    /// with Add and Remove (what it adds or removes itself runs in that same pass, before anything
    /// posted after it). An exception is logged and counted as a fault.
    /// </summary>
    public void Post(Action action) => Enqueue((null, false, action));

    private void Enqueue((IMediaSession? Session, bool Add, Action? Action) command)
    {
        _commands.Enqueue(command);
        _wake.Signal();
    }

    public static long NowMicros() => Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000);

    private void Run()
    {
        var handle = _socket.SafeHandle;
        while (!_stopping)
        {
            Volatile.Write(ref _allocatedBytes, GC.GetAllocatedBytesForCurrentThread());
            Volatile.Write(ref _timerEntries, _timers.Count);
            RunCommands();
            long now = NowMicros();
            RunTimers(now);
            long wait = MaxIdleWaitMicros;
            if (_timers.TryPeek(out _, out long due))
                wait = Math.Clamp(due - now, 0, MaxIdleWaitMicros);
            if (_stopping)
                return;
            _wake.Sleeping();
            if (!_commands.IsEmpty || _stopping)
            {
                _wake.Awake();
                continue;
            }
            int ready = UdpBatch.WaitReadable(handle, _wake.Fd, wait);
            _wake.Awake();
            Counters.Wakeups++;
            if ((ready & 2) != 0)
            {
                Counters.WakeSignals++;
                _wake.Drain();
            }
            if ((ready & 1) == 0)
                continue;
            RunCommands(); // a session added while we waited must see its first check
            for (int batch = 0; batch < MaxDatagramsPerWake / BatchSize && !_stopping; batch++)
            {
                int n = _rx.Receive(handle);
                Counters.ReceiveCalls++;
                if (n < 0)
                {
                    Counters.ReceiveErrors++; // ICMP port unreachable and the like: not fatal for a shared socket
                    continue;
                }
                // The two clocks read back to back: a kernel stamp (realtime) is placed on ours (monotonic) by its age.
                long batchMicros = NowMicros();
                long batchUnixNanos = _kernelTimestamps ? (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100 : 0;
                for (int i = 0; i < n; i++)
                {
                    Counters.DatagramsReceived++;
                    if (!_rx.TryGetSource(i, out var from))
                    {
                        Counters.DroppedBadAddress++;
                        continue;
                    }
                    long at = NowMicros();
                    Dispatch(_rx.Datagram(i), from, at, ArrivalMicros(i, at, batchMicros, batchUnixNanos));
                }
                // Every session this batch touched sends in one go (one sendmmsg per batch).
                FlushDirty(NowMicros());
                if (n < BatchSize)
                    break;
            }
        }
        foreach (var s in _addressOf.Keys.ToList())
            Forget(s);
    }

    /// <summary>Largest age accepted for a kernel stamp; older (or from the future) means the realtime clock stepped.</summary>
    public const long MaxKernelStampAgeMicros = 1_000_000;

    // The kernel's receive time on the loop's clock, never after now and never before the last one
    // (the estimators take arrivals in order); now when there is no usable stamp.
    private long ArrivalMicros(int slot, long now, long batchMicros, long batchUnixNanos)
    {
        long arrival = now;
        if (_kernelTimestamps && _rx.TryGetKernelTimestamp(slot, out long stamp))
        {
            long age = (batchUnixNanos - stamp) / 1000;
            if (age is >= 0 and <= MaxKernelStampAgeMicros)
            {
                arrival = Math.Min(batchMicros - age, now);
                Counters.KernelTimestamps++;
            }
            else
                Counters.KernelTimestampsRejected++;
        }
        if (arrival < _lastArrivalMicros)
            arrival = _lastArrivalMicros;
        _lastArrivalMicros = arrival;
        return arrival;
    }

    private void Dispatch(Span<byte> datagram, NetAddress from, long now, long arrival)
    {
        IMediaSession? session;
        var kind = DatagramDemux.Classify(datagram);
        Counters.CountReceived(kind, datagram.Length);
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
            session.HandleDatagram(datagram, from, now, arrival);
        }
        catch (Exception e)
        {
            // A bug in one session must not take the loop (and every other session) down.
            Counters.SessionFaults++;
            Log.Error($"session {session.LocalUfrag} faulted: {e}");
            Forget(session);
            return;
        }
        UpdateRoute(session);
        MarkDirty(session);
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

    /// <summary>
    /// Media follows the address ICE selected. Updated at once, not at the batch's end: a check and
    /// the DTLS or RTP right behind it often arrive in one recvmmsg batch.
    /// </summary>
    private void UpdateRoute(IMediaSession session)
    {
        if (!_addressOf.TryGetValue(session, out var known))
            return;
        var selected = session.SelectedRemote;
        if (Nullable.Equals(known, selected))
            return;
        if (known is { } old && _byAddress.TryGetValue(old, out var holder) && ReferenceEquals(holder, session))
            _byAddress.Remove(old);
        if (selected is { } addr)
            _byAddress[addr] = session;
        _addressOf[session] = selected;
    }

    /// <summary>
    /// Loop thread only: the session is flushed (transmits drained, timer updated) at the end of
    /// this batch. A publisher marks the players it fed; a session not on the loop is skipped.
    /// </summary>
    public void MarkDirty(IMediaSession session)
    {
        if (_dirtySet.Add(session))
            _dirty.Add(session);
    }

    /// <summary>Drains every touched session's transmits into batched sends, then updates its route and its one timer entry.</summary>
    private void FlushDirty(long now)
    {
        for (int d = 0; d < _dirty.Count; d++)
        {
            var session = _dirty[d];
            if (!_addressOf.ContainsKey(session))
                continue; // faulted and forgotten earlier in this batch
            Drain(session);
            UpdateRoute(session);
            if (session.IsClosed)
            {
                SendBatch(); // what it sent last (close_notify) leaves before it is forgotten
                Forget(session);
                continue;
            }
            long due = session.NextTimeoutMicros;
            _timers.Set(session, due == long.MaxValue ? due : Math.Max(due, now + 1)); // a deadline in the past must not spin this pass
        }
        _dirty.Clear();
        _dirtySet.Clear();
        SendBatch();
    }

    private void Drain(IMediaSession session)
    {
        for (int i = 0; i < 10_000; i++)
        {
            if (_tx.Count == _tx.Capacity)
                SendBatch();
            var slot = _tx.NextBuffer;
            if (!session.TryPollTransmit(slot, out int length, out var to))
                return;
            if (!_tx.TryAdd(length, to, _ipv6Socket))
                Counters.DroppedBadAddress++;
            else
                Counters.CountSent(DatagramDemux.Classify(slot[..length]), length);
        }
    }

    private void SendBatch()
    {
        if (_tx.Count == 0)
            return;
        int sent = _tx.Send(_socket.SafeHandle, out int errors);
        Counters.SendCalls++;
        Counters.DatagramsSent += sent;
        Counters.SendErrors += errors; // a full send buffer drops, as UDP would
    }

    private void RunTimers(long now)
    {
        for (int i = 0; i < 100_000 && _timers.TryPopDue(now, out var session); i++)
        {
            // A deadline that moved later without an input keeps its one entry, at the new time.
            long next = session.NextTimeoutMicros;
            if (next > now)
            {
                _timers.Set(session, next);
                continue;
            }
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
            MarkDirty(session);
        }
        FlushDirty(now);
    }

    private void RunCommands()
    {
        while (_commands.TryDequeue(out var c))
        {
            if (c.Action != null)
            {
                try
                {
                    c.Action();
                }
                catch (Exception e)
                {
                    Counters.SessionFaults++;
                    Log.Error($"a posted action faulted: {e}");
                }
                continue;
            }
            var session = c.Session!;
            if (c.Add)
            {
                if (!_byUfrag.TryAdd(session.LocalUfrag, session))
                {
                    Counters.SessionFaults++;
                    continue;
                }
                _addressOf[session] = null;
                Interlocked.Increment(ref _sessionCount);
                _timers.Set(session, session.NextTimeoutMicros);
            }
            else
            {
                Forget(session);
                // What OnRemoved queued (RTCP BYE, close_notify) leaves now: nothing polls the session later.
                Drain(session);
                SendBatch();
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
        _timers.Remove(session); // its entry would keep the session (and its buffers) alive
        // It may still be on the dirty list, which FlushDirty is walking: that skips the forgotten.
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
        _wake.Signal();
        if (_thread.IsAlive)
            _thread.Join(TimeSpan.FromSeconds(2));
        _socket.Dispose();
        if (!_thread.IsAlive) // never free the batches under a loop that did not stop
        {
            _rx.Dispose();
            _tx.Dispose();
            _wake.Dispose();
        }
    }
}
