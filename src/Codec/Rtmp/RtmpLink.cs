namespace Engine.Codec.Rtmp;

/// <summary>
/// One RTMP publish connection without its socket: the <see cref="RtmpPublishSession"/> behind a
/// lock, shared by the writers (media thread, output worker) and one <see cref="IRtmpTransport"/>
/// thread. The transport takes the pending bytes by swapping buffers under the lock and makes its
/// syscalls outside it, so a writer never waits on the network. Bytes taken and not yet sent
/// count against the session's pending limit.
/// </summary>
public sealed class RtmpLink
{
    private readonly RtmpUrl _url;
    private ByteBuffer _sending; // the transport's thread only
    private bool _aborted;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RtmpLink(RtmpUrl url, int maxPendingBytes, long timeoutMillis)
    {
        _url = url;
        TimeoutMillis = timeoutMillis;
        Session = new RtmpPublishSession(url, maxPendingBytes);
        _sending = Session.NewOutgoingBuffer();
    }

    /// <summary>Lock <see cref="Sync"/> to use it.</summary>
    internal RtmpPublishSession Session { get; }

    internal object Sync => _done;

    public string Host => _url.Host;
    public int Port => _url.Port;

    /// <summary>How long setting up (resolve, connect, publish) or a stalled send may take.</summary>
    public long TimeoutMillis { get; }

    /// <summary>Completes when the transport is done with the link (its socket closed).</summary>
    public Task Done => _done.Task;

    public bool IsLive
    {
        get { lock (Sync) return Session.IsLive; }
    }

    // --- Transport side: one thread.

    /// <summary>False once the link failed or was aborted (the transport then closes it).</summary>
    public bool ShouldRun()
    {
        lock (Sync)
        {
            if (_aborted)
                Session.Fail("closed");
            return !Session.HasFailed;
        }
    }

    /// <summary>The TCP connection is up: the handshake starts.</summary>
    public void Connected(long nowMillis)
    {
        lock (Sync)
            Session.Start((uint)nowMillis);
    }

    /// <summary>What the server sent; false when it failed the session.</summary>
    public bool Received(ReadOnlySpan<byte> data)
    {
        lock (Sync)
        {
            Session.Receive(data);
            return !Session.HasFailed;
        }
    }

    /// <summary>
    /// What to send now: what was taken last time and not sent goes first, else what was written
    /// since. <paramref name="moreQueued"/>: more waits behind it.
    /// </summary>
    public ReadOnlySpan<byte> TakeSendable(out bool moreQueued)
    {
        lock (Sync)
        {
            if (_sending.Length == 0)
                _sending = Session.SwapOutgoing(_sending);
            Session.InFlight = _sending.Length;
            moreQueued = Session.Outgoing.Length > 0;
        }
        return _sending.Span;
    }

    /// <summary><paramref name="count"/> bytes of <see cref="TakeSendable"/>'s span left.</summary>
    public void Sent(int count) => _sending.Consume(count);

    public int SendableLength => _sending.Length;

    /// <summary>After the sends of a step; true while the publish is not accepted yet (the setup deadline applies).</summary>
    public bool AfterSend()
    {
        lock (Sync)
        {
            Session.InFlight = _sending.Length;
            return !Session.IsLive && Session.State != RtmpPublishState.Closed;
        }
    }

    /// <summary>Failed, or finished with everything sent.</summary>
    public bool IsFinished
    {
        get
        {
            lock (Sync)
                return Session.HasFailed || (Session.State == RtmpPublishState.Closed && Session.Outgoing.Length == 0 && _sending.Length == 0);
        }
    }

    public void Fail(string error)
    {
        lock (Sync)
            Session.Fail(error);
    }

    /// <summary>The transport closed the socket.</summary>
    public void Ended() => _done.TrySetResult();

    // --- Writer side.

    /// <summary>Ends the publish (the unpublish is queued; the transport sends it, then closes).</summary>
    internal void Finish()
    {
        lock (Sync)
            Session.Finish();
    }

    /// <summary>Closes at once, without sending what is pending (the transport sees it at its next step).</summary>
    internal void Abort()
    {
        lock (Sync)
            _aborted = true;
    }
}
