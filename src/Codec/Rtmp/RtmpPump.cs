using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Engine.Codec.Rtmp;

/// <summary>
/// One RTMP publish connection: a non-blocking socket driven by <see cref="RtmpPump"/>, and its
/// <see cref="RtmpPublishSession"/>. Writers lock the connection and append to the session; the
/// pump takes the pending bytes by swapping buffers under the lock and makes its syscalls outside
/// it, so a writer never waits on the network.
/// </summary>
internal sealed class RtmpConnection
{
    private enum Phase { Resolving, Connecting, Open, Done }

    private readonly RtmpUrl _url;
    private readonly long _timeoutMs;
    private readonly ManualResetEventSlim _done = new();
    // Pump thread only (besides _aborted, which is under the lock).
    private Phase _phase;
    private Task<IPAddress[]>? _resolve;
    private Socket? _socket;
    private ByteBuffer _sending;
    private long _setupDeadline, _lastProgress;
    private bool _aborted;

    public RtmpConnection(RtmpUrl url, int maxPendingBytes, long timeoutMs)
    {
        _url = url;
        _timeoutMs = timeoutMs;
        Session = new RtmpPublishSession(url, maxPendingBytes);
        _sending = Session.NewOutgoingBuffer();
        _lastProgress = _setupDeadline = RtmpPump.NowMs + timeoutMs;
    }

    /// <summary>Lock the connection to use it.</summary>
    public RtmpPublishSession Session { get; }

    public void Start() => RtmpPump.Shared.Add(this);

    /// <summary>Waits (bounded) until a finished session's last bytes are sent and the socket is closed.</summary>
    public bool WaitDone(TimeSpan timeout) => _done.Wait(timeout);

    /// <summary>Closes at once, without sending what is pending.</summary>
    public void Abort()
    {
        lock (this)
            _aborted = true;
        RtmpPump.Shared.Wake();
    }

    /// <summary>Pump thread: one step of I/O; false once finished.</summary>
    internal bool Step(long now, byte[] receiveBuffer)
    {
        try
        {
            bool go;
            lock (this)
            {
                if (_aborted)
                    Session.Fail("closed");
                go = !Session.HasFailed;
            }
            if (go)
                Advance(now, receiveBuffer);
        }
        catch (SocketException e)
        {
            Fail($"RTMP {_url.Host}:{_url.Port}: {e.SocketErrorCode}");
        }
        catch (ObjectDisposedException)
        {
            Fail("socket closed");
        }
        lock (this)
        {
            bool finished = Session.HasFailed || (Session.State == RtmpPublishState.Closed && Session.Outgoing.Length == 0 && _sending.Length == 0);
            if (!finished)
                return true;
        }
        End();
        return false;
    }

    /// <summary>Ends the connection after an unexpected error in its step.</summary>
    internal void Kill(string error)
    {
        Fail(error);
        End();
    }

    public bool IsSettingUp
    {
        get { lock (this) return _phase != Phase.Open || !Session.IsLive; }
    }

    private void Fail(string error)
    {
        lock (this)
            Session.Fail(error);
    }

    private void End()
    {
        _socket?.Dispose();
        _socket = null;
        _phase = Phase.Done;
        _done.Set();
    }

    private void Advance(long now, byte[] rx)
    {
        if (_phase == Phase.Resolving)
        {
            IPAddress? address = null;
            if (IPAddress.TryParse(_url.Host, out var literal))
                address = literal;
            else
            {
                _resolve ??= Dns.GetHostAddressesAsync(_url.Host);
                if (!_resolve.IsCompleted)
                {
                    TimeoutCheck(now, "resolving the host");
                    return;
                }
                if (!_resolve.IsCompletedSuccessfully || _resolve.Result.Length == 0)
                {
                    Fail($"RTMP: cannot resolve {_url.Host}");
                    return;
                }
                address = _resolve.Result[0];
            }
            _socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false, NoDelay = true };
            try
            {
                _socket.Connect(new IPEndPoint(address, _url.Port));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
            }
            _phase = Phase.Connecting;
        }
        if (_phase == Phase.Connecting)
        {
            if (_socket!.Poll(0, SelectMode.SelectError) || (_socket.Poll(0, SelectMode.SelectWrite) && PendingSocketError() != 0))
            {
                Fail($"RTMP: cannot connect to {_url.Host}:{_url.Port}: {(SocketError)PendingSocketError()}");
                return;
            }
            if (!_socket.Poll(0, SelectMode.SelectWrite))
            {
                TimeoutCheck(now, "connecting");
                return;
            }
            _phase = Phase.Open;
            lock (this)
                Session.Start((uint)now);
            _lastProgress = now;
        }
        // Open: read what the server sent, then send what is pending.
        for (int i = 0; i < 16; i++)
        {
            int n = _socket!.Receive(rx, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
                break;
            if (error != SocketError.Success || n == 0)
            {
                Fail(n == 0 && error == SocketError.Success ? "RTMP server closed the connection" : $"RTMP: receive: {error}");
                return;
            }
            lock (this)
            {
                Session.Receive(rx.AsSpan(0, n));
                if (Session.HasFailed)
                    return;
            }
        }
        bool moreQueued;
        lock (this)
        {
            // What was taken last time goes first; then take what was written since.
            if (_sending.Length == 0)
                _sending = Session.SwapOutgoing(_sending);
            Session.InFlight = _sending.Length;
            moreQueued = Session.Outgoing.Length > 0;
        }
        while (_sending.Length > 0)
        {
            int n = _socket!.Send(_sending.Span, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
                break;
            if (error != SocketError.Success)
            {
                Fail($"RTMP: send: {error}");
                return;
            }
            _sending.Consume(n);
            _lastProgress = now;
        }
        if (_sending.Length == 0 && !moreQueued)
            _lastProgress = now;
        else if (now - _lastProgress > _timeoutMs)
            Fail($"RTMP: send stalled for {_timeoutMs} ms");
        lock (this)
        {
            Session.InFlight = _sending.Length;
            if (!Session.IsLive && Session.State != RtmpPublishState.Closed)
                TimeoutCheck(now, "publishing");
        }
    }

    private int PendingSocketError() => (int)_socket!.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;

    private void TimeoutCheck(long now, string what)
    {
        if (now > _setupDeadline)
            Fail($"RTMP {_url.Host}:{_url.Port}: timed out {what}");
    }
}

/// <summary>
/// One thread drives every RTMP connection: every <see cref="RtmpClientSettings.SendIntervalMillis"/>
/// (200 ms) it sends what each has pending (one send per connection), every 5 ms while one is
/// setting up. Thread-per-output woke 25 times a second per output; this wakes 5 times a second in all.
/// </summary>
internal sealed class RtmpPump
{
    public static readonly RtmpPump Shared = new();
    private const int SetupTickMs = 5;
    private readonly List<RtmpConnection> _connections = new();
    private readonly List<RtmpConnection> _snapshot = new();
    private readonly object _lock = new();
    private readonly byte[] _receiveBuffer = new byte[16 * 1024];
    private Thread? _thread;
    private bool _wake;

    public static long NowMs => ToMillis(Stopwatch.GetTimestamp(), Stopwatch.Frequency);

    // Not ticks * 1000 / frequency in 64 bits: with nanosecond ticks that overflows after 106 days of uptime.
    internal static long ToMillis(long ticks, long frequency) => (long)((Int128)ticks * 1000 / frequency);

    public void Add(RtmpConnection c)
    {
        lock (_lock)
        {
            _connections.Add(c);
            _wake = true;
            if (_thread == null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "rtmp-pump" };
                _thread.Start();
            }
            Monitor.Pulse(_lock);
        }
    }

    public void Wake()
    {
        lock (_lock)
        {
            _wake = true;
            Monitor.Pulse(_lock);
        }
    }

    private void Run()
    {
        bool settingUp = false;
        while (true)
        {
            lock (_lock)
            {
                if (!_wake)
                    Monitor.Wait(_lock, _connections.Count == 0 ? 1000 : settingUp ? SetupTickMs : RtmpClientSettings.SendIntervalMillis);
                _wake = false;
                _snapshot.Clear();
                _snapshot.AddRange(_connections);
            }
            settingUp = false;
            long now = NowMs;
            foreach (var c in _snapshot)
            {
                bool alive;
                try
                {
                    alive = c.Step(now, _receiveBuffer);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A defect in one connection must not stop the others.
                    c.Kill("RTMP: " + e.Message);
                    alive = false;
                }
                if (!alive)
                {
                    lock (_lock)
                        _connections.Remove(c);
                }
                else
                    settingUp |= c.IsSettingUp;
            }
        }
    }
}
