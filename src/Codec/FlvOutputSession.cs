using System.Runtime.CompilerServices;
using Engine.Codec.Rtmp;
using Engine.Rtp.Media;

namespace Engine.Codec;

/// <summary>
/// One FLV output of a published stream (an RTMP URL or a file), without threads or clocks: the
/// host runs its writer (<c>Engine.Host.Output.FlvOutput</c>) and passes the time in. The media
/// thread calls <see cref="Enqueue"/>, which copies the frame into a bounded queue (full: the rest
/// of the GOP is dropped and a keyframe requested) and never opens, creates or waits on anything.
/// The writer calls <see cref="TryProcessNext"/>: it opens the output (libavformat's connect, the
/// AAC encoder), transcodes and writes. With our RTMP client, once the writer has opened the
/// connection and the queue holds no video, remuxed H.264 is written on the media thread itself
/// (an append to the connection's buffer), so a video-only relay costs the writer nothing; an
/// error there hands video back to the queue and the writer reconnects. The output starts on a
/// keyframe; after an error it retries with back-off and resumes on the next keyframe. State both
/// may touch is under <c>_sync</c>; the writer never holds it while opening or transcoding.
/// </summary>
public sealed unsafe class FlvOutputSession : IVideoPacketSink, IAudioPacketSink, IDisposable
{
    private readonly string _url;
    private readonly TrackInfo[] _tracks;
    private readonly FlvOutputOptions _options;
    private readonly FrameQueue _queue;
    private readonly bool _hasVideo, _hasAudio;
    private readonly RtmpUrl? _directUrl; // our RTMP client
    private readonly IRtmpTransport? _transport;
    private readonly object _sync = new();
    private volatile bool _transcodeVideoDecided; // set once the mode is decided and it is transcode
    // Pinned for the life of the object: libavformat polls it from inside blocking calls.
    private readonly int[] _interruptFlag = GC.AllocateArray<int>(1, pinned: true);
    private int* _interrupt => (int*)Unsafe.AsPointer(ref _interruptFlag[0]);
    private volatile string _state = "waiting for keyframe";
    private volatile string? _lastError;
    private volatile string _mode = "pending";
    private int _keyframeWanted = 1;
    private bool _videoGap; // media thread: dropping video until the next keyframe

    // Under _sync: who writes video. False: the writer, from the queue; true: the media thread.
    private bool _direct;
    private string? _directFailure; // the media thread's write failed: the writer fails the output
    private int _videoQueued; // video frames in the queue (direct handoff waits for 0)

    // Writer state (the media thread uses the video half under _sync while _direct).
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
    private long _writerNow; // the time of the frame the writer is processing (its callbacks need it)
    private long _videoOut, _audioOut, _dropped, _droppedGops, _reconnects, _opens;

    /// <param name="transport">Moves our RTMP client's bytes (required when <see cref="UsesEngineClient"/>).</param>
    /// <param name="wakeWriter">Called (from the media thread) when a backlog builds up, so a waiting writer starts early.</param>
    public FlvOutputSession(string url, IReadOnlyList<TrackInfo> tracks, FlvOutputOptions options, IRtmpTransport? transport, Action? wakeWriter = null)
    {
        _url = url;
        _tracks = tracks.ToArray();
        _options = options;
        _hasVideo = _tracks.Any(t => t.IsVideo);
        _hasAudio = _tracks.Any(t => !t.IsVideo);
        _queue = new FrameQueue(options.QueueFrames, options.QueueBytes, wakeWriter);
        _timeline = new MediaTimeline(_tracks.Length);
        _backoffMillis = options.RetryMinMillis;
        // Until the first Opus packet says otherwise: stereo only when the SDP asks for it (RFC 7587 stereo=1).
        _audioChannels = _tracks.Any(t => !t.IsVideo && t.FormatParameters.Replace(" ", "").Contains("stereo=1", StringComparison.Ordinal)) ? 2 : 1;
        _directUrl = DirectUrl(url, options.Client);
        _transport = transport;
        if (_directUrl != null && transport == null)
            throw new ArgumentException("our RTMP client needs a transport", nameof(transport));
    }

    /// <summary>False when the output goes through our RTMP client: libavformat is then not needed.</summary>
    public static bool NeedsLibavformat(string url, RtmpClient client) => DirectUrl(url, client) == null;

    // Our client takes rtmp:// URLs it can parse (no credentials); libavformat the rest.
    private static RtmpUrl? DirectUrl(string url, RtmpClient client) =>
        client == RtmpClient.Engine && RtmpUrl.TryParse(url, out var parsed) ? parsed : null;

    /// <summary>Our RTMP client: the writer's work never blocks (a shared worker may run it).</summary>
    public bool UsesEngineClient => _directUrl != null;

    /// <summary>The video is re-encoded: heavy, the writer wants a thread of its own.</summary>
    public bool TranscodesVideo => _transcodeVideoDecided;

    public string Url => FlvMuxer.Redact(_url);
    public string State => _muxer is RtmpFlvWriter { IsLive: false } && _state == "live" ? "connecting" : _state;
    /// <summary>The state as /api/streams has always shown it: "live" from the open on, not from the server's accept.</summary>
    public string ReportedState => _state;
    public string Mode => _mode;
    public string? LastError => _lastError;
    public long VideoFramesWritten => Interlocked.Read(ref _videoOut);
    public long AudioFramesWritten => Interlocked.Read(ref _audioOut);
    public long FramesDropped => Interlocked.Read(ref _dropped);
    public long GopsDropped => Interlocked.Read(ref _droppedGops);
    public long Reconnects => Interlocked.Read(ref _reconnects);
    public int Queued => _queue.Count;
    /// <summary>No more frames are taken (<see cref="Complete"/>): the writer drains the queue and closes.</summary>
    public bool IsCompleted => _queue.IsCompleted;
    /// <summary>Whether libavformat's blocking calls were told to give up (<see cref="Interrupt"/>).</summary>
    public bool IsInterrupted => Volatile.Read(ref *_interrupt) != 0;

    // --- Media thread.

    /// <summary>
    /// Media thread: remux now (our client, once live), copy the frame into the queue, or drop it;
    /// never waits. True when a frame was queued (the host then makes sure a writer runs).
    /// </summary>
    public bool Enqueue(int trackIndex, in EncodedFrame frame, long nowMillis)
    {
        if (!frame.IsVideo)
        {
            if (_queue.TryEnqueue(trackIndex, frame))
                return true;
            Interlocked.Increment(ref _dropped);
            return false;
        }
        if (_videoGap && !frame.IsKeyframe)
        {
            Interlocked.Increment(ref _dropped);
            return false;
        }
        _videoGap = false;
        if (_directUrl != null && !_transcodeVideoDecided)
        {
            // Under the lock: the writer's handoff to direct writes must see every queued video frame.
            lock (_sync)
            {
                if (_direct)
                {
                    RemuxHere(trackIndex, frame, nowMillis);
                    return false;
                }
                return EnqueueVideo(trackIndex, frame);
            }
        }
        return EnqueueVideo(trackIndex, frame);
    }

    private bool EnqueueVideo(int trackIndex, in EncodedFrame frame)
    {
        if (_queue.TryEnqueue(trackIndex, frame))
        {
            Interlocked.Increment(ref _videoQueued);
            return true;
        }
        // Full: drop the rest of this GOP rather than send frames that reference a lost one.
        _videoGap = true;
        Interlocked.Increment(ref _dropped);
        Interlocked.Increment(ref _droppedGops);
        Volatile.Write(ref _keyframeWanted, 1);
        return false;
    }

    // Media thread, under _sync, our client live: time and append.
    private void RemuxHere(int track, in EncodedFrame frame, long nowMillis)
    {
        long ms = _timeline.ToMillis(track, frame.RtpTimestamp, frame.ClockRate, frame.SenderNtpMicros, frame.ArrivalMicros);
        RequestPeriodicKeyframe(frame.IsKeyframe, nowMillis);
        var newAvcC = UpdateParameterSets(frame.Data, frame.IsKeyframe);
        try
        {
            WriteVideoLocked(frame.Data, ms, frame.IsKeyframe, newAvcC);
        }
        catch (IOException e)
        {
            // Not here (the media thread closes nothing): the writer fails the output and reconnects.
            _direct = false;
            _directFailure = e.Message;
            Interlocked.Increment(ref _dropped);
            Volatile.Write(ref _keyframeWanted, 1);
        }
    }

    public bool TakeKeyframeRequest() => Interlocked.Exchange(ref _keyframeWanted, 0) != 0;

    /// <summary>The publisher left: the writer writes what is queued, then closes cleanly.</summary>
    public void Complete() => _queue.Complete();

    /// <summary>Stops at once: libavformat's blocking calls return, what is queued is dropped, our client does not wait to send its unpublish.</summary>
    public void Interrupt()
    {
        Volatile.Write(ref *_interrupt, 1);
        _queue.Complete();
    }

    // --- Writer: one thread at a time (a shared worker's turn or the output's own thread).

    /// <summary>
    /// Writer: takes one queued frame and handles it (this may block in libavformat, bounded by
    /// the I/O timeout). False when the queue is empty, with <paramref name="ended"/> once it is
    /// completed; then our client may take over video on the media thread.
    /// </summary>
    public bool TryProcessNext(long nowMillis, out bool ended)
    {
        _writerNow = nowMillis;
        string? failure;
        lock (_sync)
        {
            failure = _directFailure;
            _directFailure = null;
            if (failure != null)
                Fail(failure, nowMillis);
        }
        if (!_queue.TryDequeue(out var frame, out ended))
        {
            if (!ended)
                TryHandOffVideo();
            return false;
        }
        try
        {
            if (frame.IsVideo)
                Interlocked.Decrement(ref _videoQueued);
            if (Volatile.Read(ref *_interrupt) != 0)
                Interlocked.Increment(ref _dropped);
            else
                Process(frame, nowMillis);
        }
        catch (Exception e) when (e is FfmpegException or IOException or ArgumentException or InvalidOperationException)
        {
            lock (_sync)
                Fail(e.Message, nowMillis);
        }
        finally
        {
            _queue.Release(ref frame);
        }
        if (Volatile.Read(ref _videoQueued) == 0)
            TryHandOffVideo();
        return true;
    }

    /// <summary>Writer, at the end: the trailer (or the unpublish, waited for up to 5 s), then closed.</summary>
    public void Close()
    {
        CloseMuxer(clean: true);
        if (!_failed)
            _state = "closed";
    }

    /// <summary>A defect in the writer's work: the output fails for good (what is queued is dropped).</summary>
    public void Fault(string error)
    {
        _lastError = error;
        _failed = true;
        _state = "failed: " + error;
    }

    private void Process(in QueuedFrame frame, long now)
    {
        if (_failed)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        if (!frame.IsVideo && !_audioChannelsKnown)
        {
            // The publisher's Opus says how many channels the AAC encoder gets (made on this thread, at the open).
            _audioChannelsKnown = true;
            _audioChannels = AudioTranscoder.IsStereo(frame.Data) ? 2 : 1;
        }
        long ms;
        bool transcode;
        lock (_sync)
        {
            if (!CanStart(frame.IsVideo, frame.IsKeyframe, now))
                return;
            if (frame.IsVideo && !_modeDecided)
                DecideMode(frame.Codec, frame.Data, frame.Track);
            ms = _timeline.ToMillis(frame.Track, frame.RtpTimestamp, frame.ClockRate, frame.SenderNtpMicros, frame.ArrivalMicros);
            transcode = _transcodeVideo;
            if (frame.IsVideo && !transcode)
                RequestPeriodicKeyframe(frame.IsKeyframe, now);
        }
        if (frame.IsVideo && !transcode)
            WriteVideo(frame.Data, ms, frame.IsKeyframe);
        else if (frame.IsVideo)
            (_video ??= new VideoTranscoder(_options.Encoder)).Transcode(frame.Codec, frame.Data, ms, this);
        else
            (_audio ??= new AudioTranscoder(_audioChannels)).Transcode(frame.Data, ms, this);
    }

    // Writer, queue empty: our client writes video on the media thread from here on, unless a frame of it is still queued.
    private void TryHandOffVideo()
    {
        if (_directUrl == null || !_hasVideo || _transcodeVideoDecided || _failed)
            return;
        lock (_sync)
        {
            if (!_direct && _muxer != null && _modeDecided && !_transcodeVideo && _directFailure == null && Volatile.Read(ref _videoQueued) == 0)
                _direct = true;
        }
    }

    // Until an output is open: wait out the back-off, then start on a video keyframe (audio before it is dropped).
    private bool CanStart(bool isVideo, bool isKeyframe, long now)
    {
        if (_muxer != null)
            return true;
        if (now < _retryAtMillis)
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
    private void RequestPeriodicKeyframe(bool isKeyframe, long now)
    {
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

    // The encoder's output, on the writer.
    void IVideoPacketSink.OnVideoPacket(ReadOnlySpan<byte> avcc, long millis, bool isKeyframe) => WriteVideo(avcc, millis, isKeyframe);

    // Writer: opens the output first when needed, outside the lock (libavformat's open blocks).
    private void WriteVideo(ReadOnlySpan<byte> avcc, long millis, bool isKeyframe)
    {
        lock (_sync)
        {
            var newAvcC = UpdateParameterSets(avcc, isKeyframe);
            if (_muxer != null)
            {
                WriteVideoOrFail(avcc, millis, isKeyframe, newAvcC);
                return;
            }
            if (!isKeyframe || _avcC.Length == 0)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
        }
        if (!Open())
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        lock (_sync)
            WriteVideoOrFail(avcc, millis, isKeyframe, default); // the parameter sets are in the header
    }

    private void WriteVideoOrFail(ReadOnlySpan<byte> avcc, long millis, bool isKeyframe, ReadOnlySpan<byte> newAvcC)
    {
        try
        {
            WriteVideoLocked(avcc, millis, isKeyframe, newAvcC);
        }
        catch (Exception e) when (e is FfmpegException or IOException)
        {
            Fail(e.Message, _writerNow);
        }
    }

    // Under _sync: a keyframe's SPS/PPS as an avcC record, when they changed (a new FLV sequence header).
    private ReadOnlySpan<byte> UpdateParameterSets(ReadOnlySpan<byte> avcc, bool isKeyframe)
    {
        if (!isKeyframe || !AvcConfig.TryFindParameterSets(avcc, out var sps, out var pps))
            return default;
        int need = AvcConfig.AvcCLength(avcc[sps].Length, avcc[pps].Length);
        if (_avcCScratch.Length < need)
            _avcCScratch = new byte[need];
        int n = AvcConfig.WriteAvcC(_avcCScratch, avcc[sps], avcc[pps]);
        if (n <= 0 || _avcCScratch.AsSpan(0, n).SequenceEqual(_avcC))
            return default;
        _avcC = _avcCScratch.AsSpan(0, n).ToArray(); // only when the parameter sets change
        if (Engine.Rtp.Video.H264Sps.TryParse(avcc[sps], out var parsed))
        {
            _width = parsed.Width;
            _height = parsed.Height;
        }
        return _avcC;
    }

    // Under _sync, the muxer open; throws what the muxer throws.
    private void WriteVideoLocked(ReadOnlySpan<byte> avcc, long millis, bool isKeyframe, ReadOnlySpan<byte> newAvcC)
    {
        if (_writerGap && !isKeyframe)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        if (_muxer!.WriteVideo(avcc, OutputMillis(millis, ref _lastVideoMs), isKeyframe, newAvcC))
        {
            _writerGap = false;
            Interlocked.Increment(ref _videoOut);
            return;
        }
        // The connection's buffer is full (a stalled server): drop the rest of this GOP.
        if (!_writerGap)
            Interlocked.Increment(ref _droppedGops);
        _writerGap = true;
        Interlocked.Increment(ref _dropped);
        Volatile.Write(ref _keyframeWanted, 1);
        if (!newAvcC.IsEmpty)
            _avcC = []; // not sent: the next keyframe must carry it again
    }

    // The encoder's output, on the writer.
    void IAudioPacketSink.OnAudioPacket(ReadOnlySpan<byte> aac, long millis)
    {
        bool open;
        lock (_sync)
            open = _muxer != null;
        if (!open && (_hasVideo || !Open()))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        lock (_sync)
        {
            try
            {
                if (_muxer == null)
                    Interlocked.Increment(ref _dropped);
                else if (_muxer.WriteAudio(aac, OutputMillis(millis, ref _lastAudioMs)))
                    Interlocked.Increment(ref _audioOut);
                else
                    Interlocked.Increment(ref _dropped);
            }
            catch (Exception e) when (e is FfmpegException or IOException)
            {
                Fail(e.Message, _writerNow);
            }
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

    // Writer, not under _sync (the media thread never waits for it): libavformat may block here in
    // its connect and header, up to the I/O timeout; the AAC encoder is created here.
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
            IFlvWriter muxer = _directUrl != null
                ? RtmpFlvWriter.Open(_directUrl, video, audio, (int)Math.Min(_options.QueueBytes, int.MaxValue / 2), _options.IoTimeoutMicros / 1000, _transport!)
                : FlvMuxer.Open(_url, video, audio, _interrupt, _options.IoTimeoutMicros);
            lock (_sync)
            {
                _muxer = muxer;
                _writerGap = false;
                _startMillis = long.MinValue;
                _lastVideoMs = _lastAudioMs = -1;
            }
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
            lock (_sync)
                Fail(e.Message, _writerNow);
            return false;
        }
    }

    // Under _sync.
    private void Fail(string error, long now)
    {
        _lastError = error;
        _direct = false;
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
        _retryAtMillis = now + _backoffMillis;
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
            _direct = false;
        }
        if (m == null)
            return;
        // Interrupted: our RTMP client would wait to send the unpublish; stop at once instead.
        if (clean && !(m is RtmpFlvWriter && IsInterrupted))
            m.Close();
        else
            m.Dispose();
    }

    /// <summary>Writer, last: frees the muxer and the codecs (no trailer).</summary>
    public void Dispose()
    {
        CloseMuxer(clean: false);
        _video?.Dispose();
        _audio?.Dispose();
    }
}
