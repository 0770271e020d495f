using System.Runtime.CompilerServices;
using System.Text.Json;
using Engine.Codec.Rtmp;
using Engine.Rtp.Media;

namespace Engine.Codec;

/// <summary>When an H.264 publisher is transcoded.</summary>
public enum TranscodePolicy
{
    /// <summary>The legacy rule: relay Constrained Baseline as is, transcode every other profile.</summary>
    Auto,
    /// <summary>Relay any H.264 profile as is.</summary>
    Passthrough,
    /// <summary>Always decode and re-encode.</summary>
    Always,
}

/// <summary>Which RTMP client pushes to rtmp:// URLs.</summary>
public enum RtmpClient
{
    /// <summary>Ours: one shared I/O thread, remuxed video written from the media thread, one send per output per <see cref="RtmpClientSettings.SendIntervalMillis"/>.</summary>
    Engine,
    /// <summary>libavformat's, on the output's writer thread (also what rtmps:// and URLs with credentials always use).</summary>
    Ffmpeg,
}

/// <summary>Process-wide settings of our RTMP client (one I/O thread serves every output).</summary>
public static class RtmpClientSettings
{
    public const int DefaultSendIntervalMillis = 200;
    private static int _sendInterval = DefaultSendIntervalMillis;

    /// <summary>
    /// How often each output's pending bytes go out in one send ([RTP] RTMP_SEND_MS). Longer batches
    /// mean fewer sends and wake-ups per stream for that much more latency on the RTMP leg, whose
    /// players buffer seconds; 200 ms against 100 ms measured 0.012-0.014 against 0.015 CPU-s per stream per 20 s
    /// (50 streams, video only).
    /// </summary>
    public static int SendIntervalMillis
    {
        get => Volatile.Read(ref _sendInterval);
        set => Volatile.Write(ref _sendInterval, Math.Clamp(value, 10, 1000));
    }
}

public sealed record FlvOutputOptions
{
    public RtmpClient Client { get; init; } = RtmpClient.Engine;
    public TranscodePolicy Policy { get; init; } = TranscodePolicy.Auto;
    public VideoEncoderSettings Encoder { get; init; } = new();
    /// <summary>Reconnect after an error (RTMP); a file output fails for good instead.</summary>
    public bool Retry { get; init; } = true;
    public int RetryMinMillis { get; init; } = 250;
    public int RetryMaxMillis { get; init; } = 2000;
    public long IoTimeoutMicros { get; init; } = 5_000_000;
    public int QueueFrames { get; init; } = 600;
    public long QueueBytes { get; init; } = 32 << 20;
}

/// <summary>
/// One FLV output of a published stream (an RTMP URL or a file). Work that may block or is heavy
/// (transcoding, libavformat's I/O) runs on a writer behind a bounded queue, so the media thread
/// never waits; a full queue drops the rest of the current GOP (video resumes at the next keyframe,
/// which is requested). With our RTMP client, remuxed H.264 is written on the media thread itself
/// (an append to the connection's buffer), so a video-only relay needs no writer, and the audio
/// transcode runs on a shared worker (<see cref="OutputWorkers"/>) until the output needs a thread
/// of its own (a video transcode, its final close). The output starts on a keyframe; after an
/// error it retries with back-off and resumes on the next keyframe. Writer state is under
/// <c>_sync</c>, as two threads may write.
/// </summary>
public sealed unsafe class FlvOutput : IVideoPacketSink, IAudioPacketSink, IDisposable, OutputWorkers.IMember
{
    private readonly string _url;
    private readonly TrackInfo[] _tracks;
    private readonly FlvOutputOptions _options;
    private readonly FrameQueue _queue;
    private readonly bool _hasVideo, _hasAudio;
    private readonly Thread _thread;
    // The writer, chosen with the first queued frame (a remux-only output never needs one): none, a shared worker, or _thread.
    private int _writer;
    private const int NoWriter = 0, SharedWriter = 1, OwnThread = 2;
    private Action? _wakeWorker;
    private readonly RtmpUrl? _directUrl; // our RTMP client: remuxed video is written by the media thread
    private readonly object _sync = new();
    private volatile bool _transcodeVideoDecided; // set once the mode is decided and it is transcode
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Pinned for the life of the object: libavformat polls it from inside blocking calls.
    private readonly int[] _interruptFlag = GC.AllocateArray<int>(1, pinned: true);
    private int* _interrupt => (int*)Unsafe.AsPointer(ref _interruptFlag[0]);
    private readonly Func<long> _clockMillis;
    private volatile string _state = "waiting for keyframe";
    private volatile string? _lastError;
    private volatile string _mode = "pending";
    private int _keyframeWanted = 1;
    private bool _videoGap; // media thread: dropping video until the next keyframe

    // Writer thread state.
    private readonly MediaTimeline _timeline;
    private IFlvWriter? _muxer;
    private VideoTranscoder? _video;
    private AudioTranscoder? _audio;
    private bool _transcodeVideo, _modeDecided, _failed, _audioChannelsKnown, _writerGap;
    private int _audioChannels;
    private byte[] _avcC = [];
    private byte[] _avcCScratch = new byte[512];
    private int _width, _height;
    private long _lastKeyframeMillis = long.MinValue;
    private long _retryAtMillis, _startMillis = long.MinValue, _lastVideoMs = -1, _lastAudioMs = -1;
    private int _backoffMillis;
    private bool _askAfterBackoff;
    private long _videoOut, _audioOut, _dropped, _droppedGops, _reconnects, _opens;

    public FlvOutput(string url, IReadOnlyList<TrackInfo> tracks, FlvOutputOptions options, string name, Func<long>? clockMillis = null)
    {
        _url = url;
        _tracks = tracks.ToArray();
        _options = options;
        _hasVideo = _tracks.Any(t => t.IsVideo);
        _hasAudio = _tracks.Any(t => !t.IsVideo);
        _queue = new FrameQueue(options.QueueFrames, options.QueueBytes);
        _timeline = new MediaTimeline(_tracks.Length);
        _backoffMillis = options.RetryMinMillis;
        _clockMillis = clockMillis ?? (() => Environment.TickCount64);
        // Until the first Opus packet says otherwise: stereo only when the SDP asks for it (RFC 7587 stereo=1).
        _audioChannels = _tracks.Any(t => !t.IsVideo && t.FormatParameters.Replace(" ", "").Contains("stereo=1", StringComparison.Ordinal)) ? 2 : 1;
        _directUrl = DirectUrl(url, options.Client);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        if (_directUrl == null)
            StartWriter();
    }

    /// <summary>False when the output goes through our RTMP client: libavformat is then not needed.</summary>
    public static bool NeedsLibavformat(string url, RtmpClient client) => DirectUrl(url, client) == null;

    // Our client takes rtmp:// URLs it can parse (no credentials); libavformat the rest.
    private static RtmpUrl? DirectUrl(string url, RtmpClient client) =>
        client == RtmpClient.Engine && RtmpUrl.TryParse(url, out var parsed) ? parsed : null;

    public string Url => FlvMuxer.Redact(_url);
    public string State => _muxer is RtmpFlvWriter { IsLive: false } && _state == "live" ? "connecting" : _state;
    public string Mode => _mode;
    public string? LastError => _lastError;
    public long VideoFramesWritten => Interlocked.Read(ref _videoOut);
    public long AudioFramesWritten => Interlocked.Read(ref _audioOut);
    public long FramesDropped => Interlocked.Read(ref _dropped);
    public long GopsDropped => Interlocked.Read(ref _droppedGops);
    public long Reconnects => Interlocked.Read(ref _reconnects);
    /// <summary>What runs the writer's work: "none" (yet), "shared worker" or "own thread".</summary>
    public string Writer => Volatile.Read(ref _writer) switch { SharedWriter => "shared worker", OwnThread => "own thread", _ => "none" };
    /// <summary>Completes when the output is closed (trailer written) after <see cref="Complete"/>.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Media thread: copy the frame in, or drop it (never wait).</summary>
    public void Enqueue(int trackIndex, in EncodedFrame frame)
    {
        if (frame.IsVideo)
        {
            if (_videoGap && !frame.IsKeyframe)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            _videoGap = false;
            if (_directUrl != null && !_transcodeVideoDecided && RemuxHere(trackIndex, frame))
                return;
            StartWriter();
            if (!_queue.TryEnqueue(trackIndex, frame))
            {
                // Full: drop the rest of this GOP rather than send frames that reference a lost one.
                _videoGap = true;
                Interlocked.Increment(ref _dropped);
                Interlocked.Increment(ref _droppedGops);
                Volatile.Write(ref _keyframeWanted, 1);
            }
        }
        else
        {
            if (!_audioChannelsKnown)
            {
                // Here, not on the writer thread: with our RTMP client the media thread may open the output (and its AAC encoder) first.
                lock (_sync)
                {
                    _audioChannelsKnown = true;
                    _audioChannels = AudioTranscoder.IsStereo(frame.Data) ? 2 : 1;
                }
            }
            StartWriter();
            if (!_queue.TryEnqueue(trackIndex, frame))
                Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Media thread, our RTMP client: remux and append now; false when the frame is for the writer thread (transcode).</summary>
    private bool RemuxHere(int track, in EncodedFrame frame)
    {
        lock (_sync)
        {
            if (_failed)
            {
                Interlocked.Increment(ref _dropped);
                return true;
            }
            if (!CanStart(isVideo: true, frame.IsKeyframe))
                return true;
            if (!_modeDecided)
            {
                DecideMode(frame.Codec, frame.Data, track);
                if (_transcodeVideo)
                    return false;
            }
            else if (_transcodeVideo)
                return false;
            long ms = _timeline.ToMillis(track, frame.RtpTimestamp, frame.ClockRate, frame.SenderNtpMicros, frame.ArrivalMicros);
            RequestPeriodicKeyframe(frame.IsKeyframe);
            OnVideoPacket(frame.Data, ms, frame.IsKeyframe);
            return true;
        }
    }

    public bool TakeKeyframeRequest() => Interlocked.Exchange(ref _keyframeWanted, 0) != 0;

    /// <summary>The publisher left: write what is queued, close cleanly.</summary>
    public void Complete()
    {
        _queue.Complete();
        StartWriter(); // it closes the output
        _wakeWorker?.Invoke();
    }

    // Our RTMP client's writes never block: a shared worker, unless the video is transcoded or the output is ending.
    private void StartWriter()
    {
        if (Volatile.Read(ref _writer) != NoWriter)
            return;
        bool shared = _directUrl != null && !_transcodeVideoDecided && !_queue.IsCompleted;
        if (Interlocked.CompareExchange(ref _writer, shared ? SharedWriter : OwnThread, NoWriter) != NoWriter)
            return;
        if (shared)
            _wakeWorker = OutputWorkers.Shared.Add(this);
        else
            _thread.Start();
    }

    // The shared worker's thread, in its turn: from here on the output's own thread writes.
    private void MoveToOwnThread()
    {
        if (Interlocked.CompareExchange(ref _writer, OwnThread, SharedWriter) == SharedWriter)
            _thread.Start();
    }

    bool OutputWorkers.IMember.Turn()
    {
        if (_transcodeVideoDecided || _queue.IsCompleted)
        {
            MoveToOwnThread();
            return false;
        }
        // Bounded: what the queue can hold, though the media thread keeps adding.
        for (int i = 0; i < _options.QueueFrames && _queue.TryDequeue(0, out var frame, out _); i++)
            ProcessQueued(ref frame);
        return true;
    }

    void OutputWorkers.IMember.TurnFailed(Exception e)
    {
        _lastError = e.Message;
        _failed = true; // what is queued is dropped; the own thread closes the output when it ends
        _state = "failed: " + e.Message;
        MoveToOwnThread();
    }

    public void WriteStatus(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("url", Url);
        w.WriteString("state", _state);
        w.WriteString("mode", _mode);
        w.WriteString("writer", Writer);
        w.WriteNumber("videoFrames", VideoFramesWritten);
        w.WriteNumber("audioFrames", AudioFramesWritten);
        w.WriteNumber("framesDropped", FramesDropped);
        w.WriteNumber("gopsDropped", GopsDropped);
        w.WriteNumber("reconnects", Reconnects);
        w.WriteNumber("queued", _queue.Count);
        if (_lastError is { } e) w.WriteString("lastError", e); else w.WriteNull("lastError");
        w.WriteEndObject();
    }

    // With our RTMP client the pump sends only so often anyway and video does not wait here: batches as long.
    private int BatchMillis => _directUrl != null ? RtmpClientSettings.SendIntervalMillis : 40;

    private void Run()
    {
        try
        {
            while (true)
            {
                // Batches: the output's latency grows by at most that, its wake-ups drop to one per batch.
                if (!_queue.TryDequeue(BatchMillis, out var frame, out bool ended))
                {
                    if (ended)
                        break;
                    continue;
                }
                ProcessQueued(ref frame);
            }
            CloseMuxer(clean: true);
            _state = _failed ? _state : "closed";
        }
        catch (Exception e)
        {
            _lastError = e.Message;
            _state = "failed: " + e.Message;
        }
        finally
        {
            CloseMuxer(clean: false);
            _video?.Dispose();
            _audio?.Dispose();
            _completion.TrySetResult();
        }
    }

    private void ProcessQueued(ref QueuedFrame frame)
    {
        try
        {
            Process(frame);
        }
        catch (Exception e) when (e is FfmpegException or IOException or ArgumentException or InvalidOperationException)
        {
            lock (_sync)
                Fail(e.Message);
        }
        finally
        {
            _queue.Release(ref frame);
        }
    }

    private void Process(in QueuedFrame frame)
    {
        if (_failed)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        long ms;
        bool transcode;
        AudioTranscoder? audio = null;
        lock (_sync)
        {
            if (!CanStart(frame.IsVideo, frame.IsKeyframe))
                return;
            if (frame.IsVideo && !_modeDecided)
                DecideMode(frame.Codec, frame.Data, frame.Track);
            ms = _timeline.ToMillis(frame.Track, frame.RtpTimestamp, frame.ClockRate, frame.SenderNtpMicros, frame.ArrivalMicros);
            transcode = _transcodeVideo;
            if (frame.IsVideo && !transcode)
            {
                RequestPeriodicKeyframe(frame.IsKeyframe);
                OnVideoPacket(frame.Data, ms, frame.IsKeyframe);
                return;
            }
            if (!frame.IsVideo)
                audio = _audio ??= new AudioTranscoder(_audioChannels); // Open may create it too, on the media thread
        }
        // Encoders run outside the lock (the media thread may want it); their output takes it.
        if (frame.IsVideo)
            (_video ??= new VideoTranscoder(_options.Encoder)).Transcode(frame.Codec, frame.Data, ms, this);
        else
            audio!.Transcode(frame.Data, ms, this);
    }

    // Until an output is open: wait out the back-off, then start on a video keyframe (audio before it is dropped).
    private bool CanStart(bool isVideo, bool isKeyframe)
    {
        if (_muxer != null)
            return true;
        if (_clockMillis() < _retryAtMillis)
        {
            Interlocked.Increment(ref _dropped);
            return false;
        }
        if (_askAfterBackoff)
        {
            // The keyframe asked for at the failure came during the back-off and was dropped.
            _askAfterBackoff = false;
            Volatile.Write(ref _keyframeWanted, 1);
        }
        if (_hasVideo && !(isVideo && isKeyframe))
        {
            Interlocked.Increment(ref _dropped);
            return false;
        }
        return true;
    }

    // Browsers send keyframes only when asked; RTMP players joining mid-stream wait for one. When
    // relaying, ask for one per GOP length of the encoder settings (at 30 fps).
    private void RequestPeriodicKeyframe(bool isKeyframe)
    {
        long now = _clockMillis();
        long interval = Math.Max(1000, _options.Encoder.GopFrames * 1000L / 30);
        if (isKeyframe || _lastKeyframeMillis == long.MinValue)
            _lastKeyframeMillis = now;
        else if (now - _lastKeyframeMillis >= interval)
        {
            _lastKeyframeMillis = now; // at most one request per interval while waiting
            Volatile.Write(ref _keyframeWanted, 1);
        }
    }

    private void DecideMode(MediaCodec codec, ReadOnlySpan<byte> data, int track)
    {
        _modeDecided = true;
        if (codec != MediaCodec.H264)
            _transcodeVideo = true;
        else
        {
            // Relayed only when both what was negotiated and what is sent are Constrained Baseline.
            bool cb = AvcConfig.TryFindParameterSets(data, out var sps, out _) && AvcConfig.IsConstrainedBaseline(data[sps])
                && AvcConfig.IsConstrainedBaselineFmtp(_tracks[track].FormatParameters);
            _transcodeVideo = _options.Policy switch { TranscodePolicy.Passthrough => false, TranscodePolicy.Always => true, _ => !cb };
        }
        _transcodeVideoDecided = _transcodeVideo;
        _mode = _transcodeVideo ? $"transcode {codec} to H264 baseline" : "remux H264";
    }

    void IVideoPacketSink.OnVideoPacket(ReadOnlySpan<byte> avcc, long millis, bool isKeyframe)
    {
        lock (_sync)
            OnVideoPacket(avcc, millis, isKeyframe);
    }

    private void OnVideoPacket(ReadOnlySpan<byte> avcc, long millis, bool isKeyframe)
    {
        if (_writerGap && !isKeyframe)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        ReadOnlySpan<byte> newAvcC = default;
        if (isKeyframe && AvcConfig.TryFindParameterSets(avcc, out var sps, out var pps))
        {
            int need = AvcConfig.AvcCLength(avcc[sps].Length, avcc[pps].Length);
            if (_avcCScratch.Length < need)
                _avcCScratch = new byte[need];
            int n = AvcConfig.WriteAvcC(_avcCScratch, avcc[sps], avcc[pps]);
            if (n > 0 && !_avcCScratch.AsSpan(0, n).SequenceEqual(_avcC))
            {
                _avcC = _avcCScratch.AsSpan(0, n).ToArray(); // only when the parameter sets change
                newAvcC = _avcC;
                if (Engine.Rtp.Video.H264Sps.TryParse(avcc[sps], out var parsed))
                {
                    _width = parsed.Width;
                    _height = parsed.Height;
                }
            }
        }
        if (_muxer == null)
        {
            if (!isKeyframe || _avcC.Length == 0)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            if (!Open())
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            newAvcC = default; // already in the header
        }
        try
        {
            if (_muxer!.WriteVideo(avcc, OutputMillis(millis, ref _lastVideoMs), isKeyframe, newAvcC))
            {
                _writerGap = false;
                Interlocked.Increment(ref _videoOut);
            }
            else
            {
                // The connection's buffer is full (a stalled server): drop the rest of this GOP.
                if (!_writerGap)
                    Interlocked.Increment(ref _droppedGops);
                _writerGap = true;
                Interlocked.Increment(ref _dropped);
                Volatile.Write(ref _keyframeWanted, 1);
                if (!newAvcC.IsEmpty)
                    _avcC = []; // not sent: the next keyframe must carry it again
            }
        }
        catch (Exception e) when (e is FfmpegException or IOException)
        {
            Fail(e.Message);
        }
    }

    void IAudioPacketSink.OnAudioPacket(ReadOnlySpan<byte> aac, long millis)
    {
        lock (_sync)
            OnAudioPacket(aac, millis);
    }

    private void OnAudioPacket(ReadOnlySpan<byte> aac, long millis)
    {
        if (_muxer == null)
        {
            if (_hasVideo || !Open())
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
        }
        try
        {
            if (_muxer!.WriteAudio(aac, OutputMillis(millis, ref _lastAudioMs)))
                Interlocked.Increment(ref _audioOut);
            else
                Interlocked.Increment(ref _dropped);
        }
        catch (Exception e) when (e is FfmpegException or IOException)
        {
            Fail(e.Message);
        }
    }

    // Each connection's timestamps start at 0 and rise strictly per stream (FLV and RTMP servers want both);
    // the AAC encoder's priming frame would otherwise land before the first video frame.
    private long OutputMillis(long millis, ref long last)
    {
        if (_startMillis == long.MinValue)
            _startMillis = millis;
        long ms = Math.Max(0, millis - _startMillis);
        if (last >= 0 && ms <= last)
            ms = last + 1;
        last = ms;
        return ms;
    }

    private bool Open()
    {
        _state = _opens == 0 ? "connecting" : "reconnecting";
        try
        {
            FlvMuxer.VideoParameters? video = _hasVideo ? new FlvMuxer.VideoParameters(_avcC, _width, _height) : null;
            FlvMuxer.AudioParameters? audio = null;
            if (_hasAudio)
            {
                _audio ??= new AudioTranscoder(_audioChannels);
                audio = new FlvMuxer.AudioParameters(_audio.AudioSpecificConfig, AudioTranscoder.SampleRate, _audio.ChannelCount);
            }
            _muxer = _directUrl != null
                ? RtmpFlvWriter.Open(_directUrl, video, audio, (int)Math.Min(_options.QueueBytes, int.MaxValue / 2), _options.IoTimeoutMicros / 1000)
                : FlvMuxer.Open(_url, video, audio, _interrupt, _options.IoTimeoutMicros);
            _writerGap = false;
            _startMillis = long.MinValue;
            _lastVideoMs = _lastAudioMs = -1;
            if (_opens++ > 0)
                Interlocked.Increment(ref _reconnects);
            _backoffMillis = _options.RetryMinMillis;
            _state = "live";
            if (!_hasVideo)
                _mode = "audio only";
            return true;
        }
        catch (FfmpegException e)
        {
            Fail(e.Message);
            return false;
        }
    }

    private void Fail(string error)
    {
        _lastError = error;
        CloseMuxer(clean: false);
        // Codec state restarts with the next keyframe, which we ask the publisher for.
        _video?.Reset();
        _avcC = [];
        Volatile.Write(ref _keyframeWanted, 1);
        if (!_options.Retry)
        {
            _failed = true;
            _state = "failed: " + error;
            return;
        }
        _retryAtMillis = _clockMillis() + _backoffMillis;
        _askAfterBackoff = true;
        _state = $"retrying in {_backoffMillis} ms: {error}";
        _backoffMillis = Math.Min(_backoffMillis * 2, _options.RetryMaxMillis);
    }

    private void CloseMuxer(bool clean)
    {
        IFlvWriter? m;
        lock (_sync)
        {
            m = _muxer;
            _muxer = null;
        }
        if (m == null)
            return;
        // Disposed: our RTMP client would wait to send the unpublish; stop at once instead.
        if (clean && !(m is RtmpFlvWriter && Volatile.Read(ref *_interrupt) != 0))
            m.Close();
        else
            m.Dispose();
    }

    /// <summary>Stops at once: interrupts blocking I/O, drops what is queued.</summary>
    public void Dispose()
    {
        Volatile.Write(ref *_interrupt, 1);
        _queue.Complete();
        StartWriter();
        _wakeWorker?.Invoke();
        _completion.Task.Wait(TimeSpan.FromSeconds(10));
    }
}
