using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Engine.Ice;
using Engine.Ice.Turn;

namespace Engine.Host.Turn;

/// <summary>
/// One TURN client over TCP or TLS (RFC 8656 §3.1): a reader task splits the stream into messages
/// (<see cref="TurnStreamFraming"/>) and posts them to the TURN thread; a writer task sends what
/// that thread queued (bounded: a client that does not read loses messages, counted). A stream
/// that is not TURN, a failed TLS handshake or any socket error closes only this connection. A
/// watchdog asks the TURN thread now and then whether the connection holds an allocation; one that
/// has held none for max-allocate-timeout (it sent nothing, or only Binding requests) is closed.
/// A ConnectionBind (RFC 6062 §5.4) pauses the reader until the TURN thread has answered it; on
/// success, once the answer is written, the connection becomes a client data connection: its bytes
/// and its peer connection's are copied both ways as they are, through one fixed buffer per
/// direction (a side that does not read stops the other from being read: back-pressure, no queue).
/// </summary>
internal sealed class TurnStreamConnection
{
    private const int MaxFrame = 4 + 65_535 + 3;
    private const int MaxQueued = 1024;
    private const int SpliceBuffer = 16 * 1024;
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly TurnHost _host;
    private readonly Socket _socket;
    private readonly X509Certificate2? _certificate;
    private readonly TurnHostCounters _counters;
    private readonly Channel<(byte[] Buffer, int Length)> _outbox =
        Channel.CreateBounded<(byte[], int)>(new BoundedChannelOptions(MaxQueued) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _abort = new();

    private readonly TimeSpan _idleCheck;

    /// <param name="idleCheck">How often the watchdog asks the TURN thread about this connection's allocation.</param>
    public TurnStreamConnection(TurnHost host, Socket socket, X509Certificate2? tlsCertificate, TurnHostCounters counters, TimeSpan idleCheck)
    {
        _host = host;
        _socket = socket;
        _certificate = tlsCertificate;
        _counters = counters;
        _idleCheck = idleCheck;
        socket.NoDelay = true;
        var remoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        RemoteIp = remoteEndPoint.Address.IsIPv4MappedToIPv6 ? remoteEndPoint.Address.MapToIPv4() : remoteEndPoint.Address;
        var remote = NetAddress.FromIPEndPoint(remoteEndPoint).UnmapIPv4();
        var local = NetAddress.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!).UnmapIPv4();
        FiveTuple = new TurnFiveTuple(tlsCertificate != null ? TurnTransport.Tls : TurnTransport.Tcp, remote, local);
        IdleSinceMicros = Engine.Host.Transport.MediaLoop.NowMicros();
    }

    public TurnFiveTuple FiveTuple { get; }

    /// <summary>The client's IP, unmapped: the key of the per-IP connection cap.</summary>
    public IPAddress RemoteIp { get; }

    /// <summary>Since when the connection has held no allocation; read and written by the TURN thread only (after construction).</summary>
    public long IdleSinceMicros;

    // A ConnectionBind was posted: the reader waits for the TURN thread's verdict (the peer socket to splice, or null).
    private TaskCompletionSource<(Socket? Peer, uint Id)>? _bindGate;

    /// <summary>Whether this connection is (or is becoming) a client data connection spliced to a peer (RFC 6062).</summary>
    public bool Spliced => Volatile.Read(ref _spliced);
    private bool _spliced;

    /// <summary>The TURN thread, after the message that may have been a ConnectionBind: whether it bound (peer non-null).</summary>
    public void ResolveBind(Socket? peer, uint id)
    {
        var gate = Volatile.Read(ref _bindGate);
        if (gate is null)
        {
            peer?.Dispose();
            return;
        }
        if (peer is not null)
            Volatile.Write(ref _spliced, true);
        if (!gate.TrySetResult((peer, id)))
            peer?.Dispose(); // the reader gave up (the connection is closing)
    }

    /// <summary>From the TURN thread: a copy of the message is queued for the writer.</summary>
    public void Enqueue(ReadOnlySpan<byte> message)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(message.Length);
        message.CopyTo(buffer);
        if (!_outbox.Writer.TryWrite((buffer, message.Length)))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _counters.Increment(TurnHostDrop.OutboxFull);
        }
    }

    public void Abort()
    {
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _abort.Token);
        var token = linked.Token;
        Stream stream = new NetworkStream(_socket, ownsSocket: true);
        Task? writer = null;
        try
        {
            if (_certificate != null)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(token);
                handshake.CancelAfter(HandshakeTimeout);
                try
                {
                    await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, handshake.Token);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _counters.Increment(TurnHostDrop.TlsHandshakeFailed);
                    return;
                }
            }
            writer = WriteLoopAsync(stream, token);
            _ = IdleWatchAsync(token);
            var (peer, id, leftover) = await ReadLoopAsync(stream, token);
            if (peer is not null)
            {
                // The ConnectionBind success is queued: it leaves first, then the stream is raw.
                _outbox.Writer.TryComplete();
                var w = writer;
                writer = null;
                try
                {
                    await w;
                }
                catch
                {
                    peer.Dispose();
                    _host.PostSpliceEnded(id);
                    throw;
                }
                await SpliceAsync(stream, peer, id, leftover, token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (!token.IsCancellationRequested)
                _counters.Increment(TurnHostDrop.ConnectionError);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _counters.Increment(TurnHostDrop.Fault);
        }
        finally
        {
            _host.Post(this, null, 0); // the allocation ends with the connection
            _outbox.Writer.TryComplete();
            Abort();
            if (writer != null)
            {
                try
                {
                    await writer;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // already counted or a close
                }
            }
            await stream.DisposeAsync();
            while (_outbox.Reader.TryRead(out var item))
                ArrayPool<byte>.Shared.Return(item.Buffer);
            _abort.Dispose();
        }
    }

    /// <summary>Reads framed messages until the stream ends, or until a ConnectionBind binds: then the peer to splice and the bytes read past it.</summary>
    private async Task<(Socket? Peer, uint Id, ArraySegment<byte> Leftover)> ReadLoopAsync(Stream stream, CancellationToken token)
    {
        var buffer = new byte[2 * MaxFrame];
        int start = 0, end = 0;
        while (!token.IsCancellationRequested)
        {
            if (end == buffer.Length)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            int n = await stream.ReadAsync(buffer.AsMemory(end), token);
            if (n == 0)
                return default;
            end += n;
            while (true)
            {
                int frame = TurnStreamFraming.GetFrameLength(buffer.AsSpan(start, end - start), 0x7FFF);
                if (frame < 0)
                {
                    // No resync in a byte stream (RFC 8656 §3.1 leaves it to the host): close.
                    _counters.Increment(TurnHostDrop.NotTurnStream);
                    return default;
                }
                if (frame == 0)
                    break;
                var copy = ArrayPool<byte>.Shared.Rent(frame);
                Buffer.BlockCopy(buffer, start, copy, 0, frame);
                // A ConnectionBind request (type 0x000B): what follows it may be raw, so wait for the verdict.
                bool bind = buffer[start] == 0x00 && buffer[start + 1] == 0x0B;
                var gate = bind ? new TaskCompletionSource<(Socket? Peer, uint Id)>(TaskCreationOptions.RunContinuationsAsynchronously) : null;
                Volatile.Write(ref _bindGate, gate);
                bool posted = _host.Post(this, copy, frame);
                start += frame;
                if (gate is null || !posted)
                {
                    Volatile.Write(ref _bindGate, null);
                    continue;
                }
                (Socket? Peer, uint Id) verdict;
                try
                {
                    verdict = await gate.Task.WaitAsync(token);
                }
                catch (OperationCanceledException)
                {
                    if (!gate.TrySetCanceled() && gate.Task.IsCompletedSuccessfully)
                        gate.Task.Result.Peer?.Dispose();
                    throw;
                }
                Volatile.Write(ref _bindGate, null);
                if (verdict.Peer is not null)
                    return (verdict.Peer, verdict.Id, new ArraySegment<byte>(buffer, start, end - start));
            }
            if (start == end)
                start = end = 0;
        }
        return default;
    }

    /// <summary>
    /// RFC 6062 §5.4-5.5: raw bytes both ways until both sides have ended. An end of stream on one side
    /// is passed on as a FIN (TLS: close_notify first) to the other; an error ends both.
    /// </summary>
    private async Task SpliceAsync(Stream data, Socket peerSocket, uint id, ArraySegment<byte> leftover, CancellationToken token)
    {
        var peer = new NetworkStream(peerSocket, ownsSocket: true);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(token);
        try
        {
            if (leftover.Count > 0)
            {
                await peer.WriteAsync(leftover.AsMemory(), both.Token);
                _counters.AddTcpBytes(toPeer: true, leftover.Count);
            }
            var up = PumpAsync(data, peer, toPeer: true, both);
            var down = PumpAsync(peer, data, toPeer: false, both);
            await Task.WhenAll(up, down);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (!token.IsCancellationRequested)
                _counters.Increment(TurnHostDrop.SpliceError);
        }
        finally
        {
            await peer.DisposeAsync();
            _host.PostSpliceEnded(id);
        }
    }

    private async Task PumpAsync(Stream from, Stream to, bool toPeer, CancellationTokenSource both)
    {
        var buffer = new byte[SpliceBuffer];
        try
        {
            while (true)
            {
                int n = await from.ReadAsync(buffer, both.Token);
                if (n == 0)
                    break;
                await to.WriteAsync(buffer.AsMemory(0, n), both.Token);
                _counters.AddTcpBytes(toPeer, n);
            }
            // Half-close: the other side learns this one is done sending, and may still answer.
            if (to is SslStream tls)
                await tls.ShutdownAsync();
            var socket = to is NetworkStream ns ? ns.Socket : _socket;
            socket.Shutdown(SocketShutdown.Send);
        }
        catch
        {
            both.Cancel(); // a reset or an error on one side ends the splice
            throw;
        }
    }

    // The TURN thread decides (it alone knows the allocations) and aborts this connection if it is idle.
    private async Task IdleWatchAsync(CancellationToken token)
    {
        try
        {
            while (!token.IsCancellationRequested)
            {
                await Task.Delay(_idleCheck, token);
                _host.PostIdleCheck(this);
            }
        }
        catch (OperationCanceledException)
        {
            // the connection ended
        }
    }

    private async Task WriteLoopAsync(Stream stream, CancellationToken token)
    {
        var reader = _outbox.Reader;
        while (await reader.WaitToReadAsync(token))
        {
            while (reader.TryRead(out var item))
            {
                try
                {
                    await stream.WriteAsync(item.Buffer.AsMemory(0, item.Length), token);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(item.Buffer);
                }
            }
            await stream.FlushAsync(token);
        }
    }
}
