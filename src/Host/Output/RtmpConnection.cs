using System.Net;
using System.Net.Sockets;
using Engine.Codec.Rtmp;

namespace Engine.Host.Output;

/// <summary>
/// The socket half of one RTMP publish: resolves and connects without blocking, then moves the
/// <see cref="RtmpLink"/>'s bytes (what the server sent in, what the writers appended out). Only
/// the <see cref="RtmpPump"/> thread calls it; the link's lock is taken for the swaps, never for a syscall.
/// </summary>
internal sealed class RtmpConnection
{
    private enum Phase { Resolving, Connecting, Open, Done }

    private readonly RtmpLink _link;
    private Phase _phase;
    private Task<IPAddress[]>? _resolve;
    private Socket? _socket;
    private readonly long _setupDeadline;
    private long _lastProgress;

    public RtmpConnection(RtmpLink link, long nowMs)
    {
        _link = link;
        _lastProgress = _setupDeadline = nowMs + link.TimeoutMillis;
    }

    private string Where => $"{_link.Host}:{_link.Port}";

    /// <summary>One step of I/O; false once finished (the socket is closed then).</summary>
    public bool Step(long now, byte[] receiveBuffer)
    {
        try
        {
            if (_link.ShouldRun())
                Advance(now, receiveBuffer);
        }
        catch (SocketException e)
        {
            _link.Fail($"RTMP {Where}: {e.SocketErrorCode}");
        }
        catch (ObjectDisposedException)
        {
            _link.Fail("socket closed");
        }
        if (!_link.IsFinished)
            return true;
        End();
        return false;
    }

    /// <summary>Ends the connection after an unexpected error in its step.</summary>
    public void Kill(string error)
    {
        _link.Fail(error);
        End();
    }

    public bool IsSettingUp => _phase != Phase.Open || !_link.IsLive;

    private void End()
    {
        _socket?.Dispose();
        _socket = null;
        _phase = Phase.Done;
        _link.Ended();
    }

    private void Advance(long now, byte[] rx)
    {
        if (_phase == Phase.Resolving)
        {
            IPAddress? address = null;
            if (IPAddress.TryParse(_link.Host, out var literal))
                address = literal;
            else
            {
                _resolve ??= Dns.GetHostAddressesAsync(_link.Host);
                if (!_resolve.IsCompleted)
                {
                    TimeoutCheck(now, "resolving the host");
                    return;
                }
                if (!_resolve.IsCompletedSuccessfully || _resolve.Result.Length == 0)
                {
                    _link.Fail($"RTMP: cannot resolve {_link.Host}");
                    return;
                }
                address = _resolve.Result[0];
            }
            _socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false, NoDelay = true };
            try
            {
                _socket.Connect(new IPEndPoint(address, _link.Port));
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
                _link.Fail($"RTMP: cannot connect to {Where}: {(SocketError)PendingSocketError()}");
                return;
            }
            if (!_socket.Poll(0, SelectMode.SelectWrite))
            {
                TimeoutCheck(now, "connecting");
                return;
            }
            _phase = Phase.Open;
            _link.Connected(now);
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
                _link.Fail(n == 0 && error == SocketError.Success ? "RTMP server closed the connection" : $"RTMP: receive: {error}");
                return;
            }
            if (!_link.Received(rx.AsSpan(0, n)))
                return;
        }
        var sending = _link.TakeSendable(out bool moreQueued);
        while (!sending.IsEmpty)
        {
            int n = _socket!.Send(sending, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
                break;
            if (error != SocketError.Success)
            {
                _link.Fail($"RTMP: send: {error}");
                return;
            }
            _link.Sent(n);
            sending = sending[n..];
            _lastProgress = now;
        }
        if (sending.IsEmpty && !moreQueued)
            _lastProgress = now;
        else if (now - _lastProgress > _link.TimeoutMillis)
            _link.Fail($"RTMP: send stalled for {_link.TimeoutMillis} ms");
        if (_link.AfterSend())
            TimeoutCheck(now, "publishing");
    }

    private int PendingSocketError() => (int)_socket!.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;

    private void TimeoutCheck(long now, string what)
    {
        if (now > _setupDeadline)
            _link.Fail($"RTMP {Where}: timed out {what}");
    }
}
