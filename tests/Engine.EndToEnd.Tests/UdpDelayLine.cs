using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// A user-space netem on loopback (this kernel has none): clients send to <see cref="Port"/>, each
/// client address gets its own upstream socket to the server (so the server sees the line as the
/// remote), every datagram waits <c>oneWay</c> in each direction, and towards the server SRTP/SRTCP
/// (first byte 128-191) is dropped at random with a seeded draw and the rate is capped. STUN and
/// DTLS are never dropped: the setup stays the same in every run, the media takes the loss. One
/// thread, bounded queues (a packet that would wait over 250 ms behind the rate cap is dropped, as a
/// router's tail drop).
/// </summary>
internal sealed class UdpDelayLine : IDisposable
{
    private const int MaxClients = 8;
    private const int MaxQueued = 8192;
    private readonly Socket _front = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly IPEndPoint _server;
    private readonly IPAddress _upstreamBind;
    private readonly double _loss;
    private readonly Random _random;
    private readonly long _delayTicks;
    private readonly double _ticksPerBit;
    private readonly List<(IPEndPoint Client, Socket Upstream)> _clients = [];
    private readonly Queue<Item> _up = new();
    private readonly Queue<Item> _down = new();
    private readonly Thread _thread;
    private readonly StreamWriter? _trace;
    private volatile bool _stop;
    private long _upFree;
    private long _upForwarded, _downForwarded, _lost, _overflow, _mediaSeen;

    private readonly record struct Item(long Due, byte[] Data, int Length, int Client);

    public readonly int Port;

    /// <param name="lossPercent">random loss of media towards the server, 0-100</param>
    /// <param name="rateBitsPerSecond">cap towards the server, 0 for none</param>
    /// <param name="tracePath">when set, a line per media datagram dropped ("D" on purpose, "Q" over the cap) with its SSRC and sequence number</param>
    /// <param name="upstreamBind">the upstream sockets' address: loopback, or one that reaches a server in a network namespace</param>
    public UdpDelayLine(IPEndPoint server, double lossPercent, int seed, TimeSpan oneWay, long rateBitsPerSecond, string? tracePath = null, IPAddress? upstreamBind = null)
    {
        _upstreamBind = upstreamBind ?? IPAddress.Loopback;
        if (tracePath != null)
            _trace = new StreamWriter(tracePath);
        _server = server;
        _loss = lossPercent / 100;
        _random = new Random(seed);
        _delayTicks = (long)(oneWay.TotalSeconds * Stopwatch.Frequency);
        _ticksPerBit = rateBitsPerSecond > 0 ? (double)Stopwatch.Frequency / rateBitsPerSecond : 0;
        _front.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _front.ReceiveBufferSize = 4 << 20;
        Port = ((IPEndPoint)_front.LocalEndPoint!).Port;
        _thread = new Thread(Run) { IsBackground = true, Name = "udp-delay-line" };
        _thread.Start();
    }

    public long UpForwarded => Interlocked.Read(ref _upForwarded);
    public long DownForwarded => Interlocked.Read(ref _downForwarded);
    public long Lost => Interlocked.Read(ref _lost);
    public long Overflow => Interlocked.Read(ref _overflow);
    public long MediaSeen => Interlocked.Read(ref _mediaSeen);

    public override string ToString() =>
        $"delay line: {MediaSeen} media datagrams towards the server, {Lost} lost on purpose ({(MediaSeen > 0 ? 100.0 * Lost / MediaSeen : 0):F2}%), {Overflow} over the rate cap; {UpForwarded} up, {DownForwarded} down";

    private void Run()
    {
        var buffer = new byte[2048];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        var readable = new List<Socket>();
        while (!_stop)
        {
            readable.Clear();
            readable.Add(_front);
            lock (_clients)
                foreach (var c in _clients)
                    readable.Add(c.Upstream);
            try
            {
                Socket.Select(readable, null, null, 1000); // 1 ms: the delay's resolution
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            long now = Stopwatch.GetTimestamp();
            foreach (var s in readable)
            {
                // Drain what is there, bounded so the other direction is served too.
                for (int i = 0; i < 64 && s.Available > 0; i++)
                {
                    int n;
                    try
                    {
                        n = s == _front ? s.ReceiveFrom(buffer, ref from) : s.Receive(buffer);
                    }
                    catch (SocketException)
                    {
                        break;
                    }
                    if (s == _front)
                        FromClient((IPEndPoint)from, buffer, n, now);
                    else
                        FromServer(s, buffer, n, now);
                }
            }
            Flush(_up, now, up: true);
            Flush(_down, now, up: false);
        }
    }

    private void FromClient(IPEndPoint from, byte[] buffer, int n, long now)
    {
        int client;
        lock (_clients)
        {
            client = _clients.FindIndex(c => c.Client.Equals(from));
            if (client < 0)
            {
                if (_clients.Count >= MaxClients)
                    return;
                var up = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                up.Bind(new IPEndPoint(_upstreamBind, 0));
                up.ReceiveBufferSize = 1 << 20;
                up.Connect(_server);
                _clients.Add((new IPEndPoint(from.Address, from.Port), up));
                client = _clients.Count - 1;
            }
        }
        if (n > 0 && buffer[0] is >= 128 and <= 191)
        {
            Interlocked.Increment(ref _mediaSeen);
            if (_loss > 0 && _random.NextDouble() < _loss)
            {
                Interlocked.Increment(ref _lost);
                Trace('D', buffer, n, now);
                return;
            }
        }
        long due = now + _delayTicks;
        if (_ticksPerBit > 0)
        {
            // The link serialises at the cap: a packet leaves when the ones before it have.
            long start = Math.Max(now, _upFree);
            if (start - now > Stopwatch.Frequency / 4)
            {
                Interlocked.Increment(ref _overflow);
                Trace('Q', buffer, n, now);
                return;
            }
            _upFree = start + (long)((n + 28) * 8 * _ticksPerBit);
            due = _upFree + _delayTicks;
        }
        Enqueue(_up, new Item(due, buffer.AsSpan(0, n).ToArray(), n, client));
    }

    // SRTP leaves the RTP header in the clear (RFC 3711 §3.1); RTCP (PT 200-206) has no sequence number.
    private void Trace(char what, byte[] buffer, int n, long now)
    {
        if (_trace == null || n < 12 || buffer[1] is >= 200 and <= 206)
            return;
        uint ssrc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(8));
        ushort seq = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(2));
        lock (_trace)
            _trace.WriteLine($"{what} {now / (Stopwatch.Frequency / 1_000_000)} {ssrc} {seq} {n}");
    }

    /// <summary>A line in the trace (e.g. the measured window's bounds), on the engine's clock (Stopwatch µs).</summary>
    public void Mark(string text)
    {
        if (_trace == null)
            return;
        lock (_trace)
            _trace.WriteLine($"M {Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000)} {text}");
    }

    private void FromServer(Socket upstream, byte[] buffer, int n, long now)
    {
        int client;
        lock (_clients)
            client = _clients.FindIndex(c => c.Upstream == upstream);
        if (client >= 0)
            Enqueue(_down, new Item(now + _delayTicks, buffer.AsSpan(0, n).ToArray(), n, client));
    }

    private void Enqueue(Queue<Item> q, Item item)
    {
        if (q.Count >= MaxQueued)
            Interlocked.Increment(ref _overflow);
        else
            q.Enqueue(item);
    }

    private void Flush(Queue<Item> q, long now, bool up)
    {
        while (q.Count > 0 && q.Peek().Due <= now)
        {
            var item = q.Dequeue();
            (IPEndPoint Client, Socket Upstream) c;
            lock (_clients)
                c = _clients[item.Client];
            try
            {
                if (up)
                    c.Upstream.Send(item.Data, 0, item.Length, SocketFlags.None);
                else
                    _front.SendTo(item.Data, 0, item.Length, SocketFlags.None, c.Client);
                if (up)
                    Interlocked.Increment(ref _upForwarded);
                else
                    Interlocked.Increment(ref _downForwarded);
            }
            catch (SocketException)
            {
                // The server's port refused (ICMP): the engine is gone; keep serving the rest.
            }
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join(2000);
        if (_trace != null)
            lock (_trace)
                _trace.Dispose();
        _front.Dispose();
        lock (_clients)
            foreach (var c in _clients)
                c.Upstream.Dispose();
    }
}
