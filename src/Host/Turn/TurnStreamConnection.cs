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
/// </summary>
internal sealed class TurnStreamConnection
{
    private const int MaxFrame = 4 + 65_535 + 3;
    private const int MaxQueued = 1024;
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
            await ReadLoopAsync(stream, token);
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

    private async Task ReadLoopAsync(Stream stream, CancellationToken token)
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
                return;
            end += n;
            while (true)
            {
                int frame = TurnStreamFraming.GetFrameLength(buffer.AsSpan(start, end - start), 0x7FFF);
                if (frame < 0)
                {
                    // No resync in a byte stream (RFC 8656 §3.1 leaves it to the host): close.
                    _counters.Increment(TurnHostDrop.NotTurnStream);
                    return;
                }
                if (frame == 0)
                    break;
                var copy = ArrayPool<byte>.Shared.Rent(frame);
                Buffer.BlockCopy(buffer, start, copy, 0, frame);
                _host.Post(this, copy, frame);
                start += frame;
            }
            if (start == end)
                start = end = 0;
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
