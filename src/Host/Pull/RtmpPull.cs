using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Engine.Codec;
using Engine.Codec.Rtmp;
using Engine.Host.Logging;

namespace Engine.Host.Pull;

/// <summary>
/// One RTMP play of <c>RTMP2RTPBASEURL/{stream}</c> on its own thread and socket: our sans-IO
/// <see cref="RtmpPlaySession"/> and <see cref="FlvTagDemuxer"/> turn the server's bytes into
/// H.264 access units (Annex B, SPS/PPS in front of key frames) and AAC frames, which cross to the
/// media loop through a bounded queue (full: the frame is dropped and counted). Never touches a player.
/// </summary>
internal sealed class RtmpPull : IRtmpPlayHandler
{
    public const int MaxQueuedFrames = 512;
    private const int ConnectTimeoutMillis = 3000, MediaTimeoutMillis = 4000, IdleTimeoutMillis = 10_000;

    private readonly RtmpUrl _url;
    private readonly RtmpPlaySession _session;
    private readonly FlvTagDemuxer _demux = new();
    private readonly ConcurrentQueue<PulledFrame> _frames = new();
    private readonly ManualResetEventSlim _settled = new(false);
    private readonly Thread _thread;
    private int _queued;
    private volatile bool _stop;
    private volatile PullState _state = PullState.Connecting;
    private long _started, _videoConfigAt = -1, _audioConfigAt = -1;
    private bool _playStarted, _bFramesLogged;

    public RtmpPull(string stream, string url, RtmpUrl parsed)
    {
        Stream = stream;
        SourceUrl = url;
        _url = parsed;
        _session = new RtmpPlaySession(parsed, this);
        _thread = new Thread(Run) { IsBackground = true, Name = "rtmp-pull" };
    }

    public string Stream { get; }
    public string SourceUrl { get; }
    public PullState State => _state;
    public string? Error { get; private set; }
    /// <summary>Set once <see cref="State"/> leaves Connecting.</summary>
    public bool HasVideo { get; private set; }
    public bool HasAudio { get; private set; }
    public int AudioChannels { get; private set; }
    /// <summary>AAC is sent as Opus: false until the AAC to Opus transcoder is wired (audio m-lines are refused).</summary>
    public bool AudioToOpus => false;
    /// <summary>profile-level-id of the source's SPS (RFC 6184 §8.1).</summary>
    public string ProfileLevelId { get; private set; } = "42e01f";
    /// <summary>The source has reordered frames: its video is dropped (no transcode here yet).</summary>
    public volatile bool VideoDropped;
    public long BytesReceived => Interlocked.Read(ref _bytes);
    private long _bytes;
    public long VideoFrames, AudioFrames, FramesDropped;
    /// <summary>What arrived over the last second, in bits per second.</summary>
    public long BitrateBps => Interlocked.Read(ref _bitrate);
    private long _bitrate, _rateBytes, _rateAt;

    public void Start()
    {
        _started = Environment.TickCount64;
        _thread.Start();
    }

    /// <summary>Waits until the codecs are known, or the pull failed; true when players can be answered.</summary>
    public bool WaitSettled(TimeSpan timeout) => _settled.Wait(timeout) && _state == PullState.Ready;

    /// <summary>Thread-safe: sends deleteStream and closes the socket.</summary>
    public void Stop() => _stop = true;

    /// <summary>Media thread: the next queued frame (its buffer now the caller's).</summary>
    public bool TryTake(out PulledFrame frame)
    {
        if (!_frames.TryDequeue(out frame))
            return false;
        Interlocked.Decrement(ref _queued);
        return true;
    }

    private void Run()
    {
        Socket? socket = null;
        var buffer = new byte[64 * 1024];
        try
        {
            var addresses = Dns.GetHostAddresses(_url.Host);
            if (addresses.Length == 0)
                throw new SocketException((int)SocketError.HostNotFound);
            socket = new Socket(addresses[0].AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var connect = socket.ConnectAsync(addresses[0], _url.Port);
            if (!connect.Wait(ConnectTimeoutMillis))
                throw new SocketException((int)SocketError.TimedOut);
            _session.Start((uint)Environment.TickCount);
            long lastInput = Environment.TickCount64;
            while (!_stop)
            {
                Flush(socket);
                if (_session.HasFailed)
                {
                    End(PullState.Failed, _session.Error ?? "RTMP play failed");
                    return;
                }
                long now = Environment.TickCount64;
                if (now - _rateAt >= 1000)
                {
                    long b = BytesReceived;
                    Interlocked.Exchange(ref _bitrate, (b - _rateBytes) * 8000 / Math.Max(1, now - _rateAt));
                    _rateBytes = b;
                    _rateAt = now;
                }
                if (_state == PullState.Connecting)
                    CheckSettled(now);
                if (_state is PullState.Ended or PullState.Failed)
                    return;
                if (socket.Poll(100_000, SelectMode.SelectRead))
                {
                    int n = socket.Receive(buffer);
                    if (n == 0)
                    {
                        End(PullState.Ended, "the RTMP server closed the connection");
                        return;
                    }
                    lastInput = now;
                    Interlocked.Add(ref _bytes, n);
                    _session.Receive(buffer.AsSpan(0, n));
                }
                else if (now - lastInput > IdleTimeoutMillis)
                {
                    End(_state == PullState.Ready ? PullState.Ended : PullState.Failed, "no data from the RTMP server for 10 s");
                    return;
                }
            }
            _session.Finish();
            Flush(socket);
            End(PullState.Ended, "stopped");
        }
        catch (Exception e) when (e is SocketException or AggregateException or ObjectDisposedException)
        {
            var se = e as SocketException ?? e.InnerException as SocketException;
            End(PullState.Failed, $"RTMP {_url.Host}:{_url.Port}: {(se != null ? se.SocketErrorCode.ToString() : e.Message)}");
        }
        finally
        {
            socket?.Dispose();
            _demux.Dispose();
        }
    }

    private void Flush(Socket socket)
    {
        var o = _session.Outgoing;
        for (int i = 0; i < 1000 && o.Length > 0; i++)
            o.Consume(socket.Send(o.Span));
    }

    private void CheckSettled(long now)
    {
        bool video = _videoConfigAt >= 0, audio = _audioConfigAt >= 0;
        // nginx-rtmp sends both sequence headers right after Play.Start; wait briefly for the second.
        if ((video && (audio || now - _videoConfigAt > 1000)) || (audio && now - _audioConfigAt > 1500))
        {
            HasVideo = video;
            HasAudio = audio;
            if (video)
                ProfileLevelId = $"{_demux.Profile:x2}{_demux.ProfileCompatibility:x2}{_demux.Level:x2}";
            if (audio)
                AudioChannels = _demux.AudioConfig.Channels;
            _state = PullState.Ready;
            _settled.Set();
        }
        else if (now - _started > MediaTimeoutMillis)
            End(PullState.Failed, _playStarted ? "no media from the RTMP server (is the stream published?)" : "the RTMP server did not start the play");
    }

    private void End(PullState state, string why)
    {
        if (_state is PullState.Ended or PullState.Failed)
            return;
        Error = why;
        _state = state;
        _settled.Set();
    }

    public void OnEvent(in RtmpPlayEvent e)
    {
        switch (e.Kind)
        {
            case RtmpPlayEventKind.PlayStart:
                _playStarted = true;
                break;
            case RtmpPlayEventKind.StreamNotFound:
                End(PullState.Failed, "StreamNotFound");
                break;
            case RtmpPlayEventKind.UnpublishNotify:
            case RtmpPlayEventKind.PlayStop:
                End(_state == PullState.Ready ? PullState.Ended : PullState.Failed, "the RTMP source stopped (" + e.Kind + ")");
                break;
            case RtmpPlayEventKind.Video:
                OnVideo(e.Millis, e.Payload);
                break;
            case RtmpPlayEventKind.Audio:
                OnAudio(e.Millis, e.Payload);
                break;
        }
    }

    private void OnVideo(uint millis, ReadOnlySpan<byte> tag)
    {
        var r = _demux.DemuxVideo(millis, tag, out var frame);
        if (r == FlvDemuxResult.Config && _videoConfigAt < 0)
            _videoConfigAt = Environment.TickCount64;
        if (r != FlvDemuxResult.Frame)
            return;
        Interlocked.Increment(ref VideoFrames);
        if (frame.CompositionMillis != 0 && !VideoDropped)
        {
            VideoDropped = true; // reordered frames cannot be packetized as they are: a transcode is needed
            if (!_bFramesLogged)
                Log.Warn($"pull '{Stream}' ({SourceUrl}): the H.264 source has B-frames (composition offset {frame.CompositionMillis} ms); its video is dropped, audio only (send -bf 0)");
            _bFramesLogged = true;
        }
        if (VideoDropped || _state != PullState.Ready && _state != PullState.Connecting)
            return;
        Enqueue(PulledFrame.Copy(frame.AnnexB, true, frame.Keyframe, frame.DtsMillis));
    }

    private void OnAudio(uint millis, ReadOnlySpan<byte> tag)
    {
        var r = _demux.DemuxAudio(millis, tag, out var frame);
        if (r == FlvDemuxResult.Config && _audioConfigAt < 0)
            _audioConfigAt = Environment.TickCount64;
        if (r != FlvDemuxResult.Frame)
            return;
        Interlocked.Increment(ref AudioFrames);
    }

    private void Enqueue(in PulledFrame f)
    {
        if (Interlocked.Increment(ref _queued) > MaxQueuedFrames)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref FramesDropped);
            f.Release();
            return;
        }
        _frames.Enqueue(f);
    }

    /// <summary>After the feed left the loop: returns what is still queued to the pool.</summary>
    public void DrainQueue()
    {
        while (TryTake(out var f))
            f.Release();
    }
}
