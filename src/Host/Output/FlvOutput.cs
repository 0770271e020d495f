using Engine.Codec;
using Engine.Codec.Rtmp;
using Engine.Rtp.Media;

namespace Engine.Host.Output;

/// <summary>
/// The threads and the clock of one FLV output (<see cref="FlvOutputSession"/> does the work).
/// The media thread only hands frames to the session, which queues them (bounded; it never waits)
/// or, with our RTMP client once the connection is open, appends remuxed video to it. The writer
/// (opening, transcoding, libavformat's I/O) runs on a shared worker (<see cref="OutputWorkers"/>)
/// while its work never blocks (our RTMP client: the Opus to AAC transcode), and on a thread of its
/// own otherwise: libavformat's outputs, a video transcode, the final close (which waits up to 5 s
/// for the unpublish to be sent).
/// </summary>
public sealed class FlvOutput : IOutputWorkerMember, IDisposable
{
    private readonly FlvOutputSession _session;
    private readonly FlvOutputOptions _options;
    private readonly OutputWorkers _workers;
    private readonly Thread _thread;
    // The writer, chosen with the first queued frame (our client; libavformat's starts at once): none, a shared worker, or _thread.
    private int _writer;
    private const int NoWriter = 0, SharedWriter = 1, OwnThread = 2;
    private Action? _wakeWorker;
    private readonly Func<long> _clockMillis;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _signal = new();
    private bool _signaled;

    /// <param name="clockMillis">The monotonic clock (tests pass their own); <see cref="OutputClock"/> by default.</param>
    /// <param name="transport">Our RTMP client's I/O; <see cref="RtmpPump.Shared"/> by default.</param>
    /// <param name="workers">The shared writers; <see cref="OutputWorkers.Shared"/> by default.</param>
    public FlvOutput(string url, IReadOnlyList<TrackInfo> tracks, FlvOutputOptions options, string name, Func<long>? clockMillis = null,
        IRtmpTransport? transport = null, OutputWorkers? workers = null)
    {
        _options = options;
        _clockMillis = clockMillis ?? OutputClock.NowMillis;
        _workers = workers ?? OutputWorkers.Shared;
        _session = new FlvOutputSession(url, tracks, options, transport ?? RtmpPump.Shared, WakeOwnThread);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        if (!_session.UsesEngineClient)
            StartWriter();
    }

    /// <summary>False when the output goes through our RTMP client: libavformat is then not needed.</summary>
    public static bool NeedsLibavformat(string url, RtmpClient client) => FlvOutputSession.NeedsLibavformat(url, client);

    public string Url => _session.Url;
    public string State => _session.State;
    public string Mode => _session.Mode;
    public string? LastError => _session.LastError;
    public long VideoFramesWritten => _session.VideoFramesWritten;
    public long AudioFramesWritten => _session.AudioFramesWritten;
    public long FramesDropped => _session.FramesDropped;
    public long GopsDropped => _session.GopsDropped;
    public long Reconnects => _session.Reconnects;
    /// <summary>What runs the writer's work: "none" (yet), "shared worker" or "own thread".</summary>
    public string Writer => Volatile.Read(ref _writer) switch { SharedWriter => "shared worker", OwnThread => "own thread", _ => "none" };
    /// <summary>Completes when the output is closed (trailer written) after <see cref="Complete"/>.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Media thread: the frame is queued, remuxed into our client's buffer or dropped; never waits.</summary>
    public void Enqueue(int trackIndex, in EncodedFrame frame)
    {
        if (_session.Enqueue(trackIndex, frame, _clockMillis()))
            StartWriter();
    }

    public bool TakeKeyframeRequest() => _session.TakeKeyframeRequest();

    /// <summary>Any thread: a snapshot for /api/streams.</summary>
    public SinkOutputStatus Snapshot() => new(_session.Url, _session.ReportedState, _session.Mode, Writer, _session.VideoFramesWritten,
        _session.AudioFramesWritten, _session.FramesDropped, _session.GopsDropped, _session.Reconnects, _session.Queued, _session.LastError);

    /// <summary>The publisher left: write what is queued, close cleanly.</summary>
    public void Complete()
    {
        _session.Complete();
        StartWriter(); // it closes the output
        Wake();
    }

    /// <summary>Stops at once: interrupts blocking I/O, drops what is queued (waits up to 10 s for the writer).</summary>
    public void Dispose()
    {
        _session.Interrupt();
        StartWriter();
        Wake();
        _completion.Task.Wait(TimeSpan.FromSeconds(10));
    }

    private void Wake()
    {
        _wakeWorker?.Invoke();
        WakeOwnThread();
    }

    // The session's backlog, Complete and Dispose: the own thread stops waiting for its batch.
    private void WakeOwnThread()
    {
        lock (_signal)
        {
            _signaled = true;
            Monitor.Pulse(_signal);
        }
    }

    // Our RTMP client's writes never block: a shared worker, unless the video is transcoded or the output is ending.
    private void StartWriter()
    {
        if (Volatile.Read(ref _writer) != NoWriter)
            return;
        bool shared = _session.UsesEngineClient && !_session.TranscodesVideo && !_session.IsCompleted;
        if (Interlocked.CompareExchange(ref _writer, shared ? SharedWriter : OwnThread, NoWriter) != NoWriter)
            return;
        if (shared)
            _wakeWorker = _workers.Add(this);
        else
            _thread.Start();
    }

    // The shared worker's thread, in its turn: from here on the output's own thread writes.
    private void MoveToOwnThread()
    {
        if (Interlocked.CompareExchange(ref _writer, OwnThread, SharedWriter) == SharedWriter)
            _thread.Start();
    }

    bool IOutputWorkerMember.Turn()
    {
        if (_session.TranscodesVideo || _session.IsCompleted)
        {
            MoveToOwnThread();
            return false;
        }
        // Bounded: what the queue can hold, though the media thread keeps adding.
        for (int i = 0; i < _options.QueueFrames && _session.TryProcessNext(_clockMillis(), out _); i++)
        {
            if (_session.TranscodesVideo)
            {
                // Decided by the frame just written: x264 runs on the output's own thread, not here.
                MoveToOwnThread();
                return false;
            }
        }
        return true;
    }

    void IOutputWorkerMember.TurnFailed(Exception e)
    {
        _session.Fault(e.Message); // what is queued is dropped; the own thread closes the output when it ends
        MoveToOwnThread();
    }

    // With our RTMP client the pump sends only so often anyway and video does not wait here: batches as long.
    private int BatchMillis => _session.UsesEngineClient ? RtmpClientSettings.SendIntervalMillis : 40;

    private void Run()
    {
        try
        {
            while (true)
            {
                if (_session.TryProcessNext(_clockMillis(), out bool ended))
                    continue;
                if (ended)
                    break;
                // Batches: the output's latency grows by at most that, its wake-ups drop to one per batch.
                lock (_signal)
                {
                    if (!_signaled)
                        Monitor.Wait(_signal, BatchMillis);
                    _signaled = false;
                }
            }
            _session.Close();
        }
        catch (Exception e)
        {
            _session.Fault(e.Message);
        }
        finally
        {
            _session.Dispose();
            _completion.TrySetResult();
        }
    }
}
