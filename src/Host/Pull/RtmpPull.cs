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
/// Transcoding runs here, off the media loop: AAC becomes Opus 48 kHz (<see cref="OpusTranscoder"/>),
/// and H.264 with B-frames (non-zero composition offsets) becomes Constrained Baseline
/// (<see cref="VideoTranscoder"/>); H.264 without them passes as it is. While a player that takes
/// VP8 only (Firefox without OpenH264) is attached, the source is also encoded to VP8 here.
/// </summary>
internal sealed class RtmpPull : IRtmpPlayHandler, IOpusPacketSink, IVideoPacketSink
{
    public const int MaxQueuedFrames = 512;
    private const int ConnectTimeoutMillis = 3000, MediaTimeoutMillis = 4000, IdleTimeoutMillis = 10_000;
    // How long the settle waits after the video config for the first key frame (it says B-frames or not, and fills the GOP cache).
    private const int KeyframeWaitMillis = 2500;

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
    private bool _playStarted, _bFramesLogged, _keyframeSeen;
    private OpusTranscoder? _opus;
    private int _opusConfigVersion = -1;
    private bool _opusFailed;
    private VideoTranscoder? _video;
    private bool _videoNeedsKeyframe = true;
    private volatile bool _keyframeRequested;
    private VideoTranscoder? _vp8;
    private Vp8Sink? _vp8Sink;
    private bool _vp8NeedsKeyframe = true, _vp8Failed;
    private int _vp8Players;
    private volatile bool _vp8KeyframeRequested;
    // Issue 16: the players' lowest send-side targets (media loop writes, encode thread reads) and what the encoders make of them.
    private long _h264PlayersBps = -1, _vp8PlayersBps = -1, _encoderTargetBps = -1, _vp8EncoderTargetBps = -1;
    private EncoderRateController? _videoRate, _vp8Rate;
    public const long TranscodeBitRate = 1_500_000, Vp8BitRate = 1_200_000;
    // Opus leaves as 50 packets a second, each with about 30 bytes of RTP header, extensions and SRTP tag that the estimate counts too.
    private const long AudioRtpOverheadBps = 12_000;

    public RtmpPull(string stream, string url, RtmpUrl parsed)
    {
        Stream = stream;
        SourceUrl = url;
        _url = parsed;
        _session = new RtmpPlaySession(parsed, this);
        _thread = new Thread(Run) { IsBackground = true, Name = "rtmp-pull" };
    }

    /// <summary>A pull of <paramref name="url"/> (not started); null when it is not an rtmp:// URL our client plays.</summary>
    public static RtmpPull? Create(string stream, string url) => RtmpUrl.TryParse(url, out var parsed) ? new RtmpPull(stream, url, parsed) : null;

    public string Stream { get; }
    public string SourceUrl { get; }
    public PullState State => _state;
    public string? Error { get; private set; }
    /// <summary>Set once <see cref="State"/> leaves Connecting.</summary>
    public bool HasVideo { get; private set; }
    public bool HasAudio { get; private set; }
    public int AudioChannels { get; private set; }
    /// <summary>AAC is sent as Opus (false when libopus could not be opened: audio m-lines are refused).</summary>
    public bool AudioToOpus { get; private set; }
    /// <summary>profile-level-id of what players get (RFC 6184 §8.1): the source's SPS, or Constrained Baseline when transcoded.</summary>
    public string ProfileLevelId { get; private set; } = "42e01f";
    /// <summary>The source's video cannot be sent (the transcoder failed to open).</summary>
    public volatile bool VideoDropped;
    /// <summary>The source reorders frames (B-frames): its video is transcoded to Constrained Baseline.</summary>
    public volatile bool VideoTranscoded;
    public long VideoFramesTranscoded, AudioFramesTranscoded, TranscodeErrors, KeyframesRequested;
    /// <summary>VP8 frames encoded for players that offer no H.264.</summary>
    public long Vp8FramesEncoded;
    public int Vp8Players => Volatile.Read(ref _vp8Players);
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

    /// <summary>Thread-safe: a player needs a key frame the cache could not give; the transcoder's next frame is an IDR.</summary>
    public void RequestKeyframe()
    {
        if (VideoTranscoded)
            _keyframeRequested = true;
    }

    /// <summary>Thread-safe: a VP8 player joined (the VP8 encoder runs while there is one) or left.</summary>
    public void AddVp8Player()
    {
        Interlocked.Increment(ref _vp8Players);
        _vp8KeyframeRequested = true;
    }

    public void RemoveVp8Player() => Interlocked.Decrement(ref _vp8Players);

    /// <summary>Media loop: the lowest send-side target of the H.264 and of the VP8 players (-1: none known); the encode thread applies them.</summary>
    public void SetPlayerTargets(long h264Bps, long vp8Bps)
    {
        Volatile.Write(ref _h264PlayersBps, h264Bps);
        Volatile.Write(ref _vp8PlayersBps, vp8Bps);
    }

    /// <summary>The H.264 transcoder's bitrate now; -1 while the source is not transcoded.</summary>
    public long EncoderTargetBps => Volatile.Read(ref _encoderTargetBps);
    /// <summary>The VP8 encoder's bitrate now; -1 while it does not run.</summary>
    public long Vp8EncoderTargetBps => Volatile.Read(ref _vp8EncoderTargetBps);

    /// <summary>
    /// Where a new player's send-side estimate starts: the encoder's configured rate plus the audio
    /// when it gets transcoded video (GCC then cuts from there if the path cannot carry it, instead of
    /// climbing 8 % a second from 300 kbit/s for the first half minute); -1 for the estimator's default.
    /// </summary>
    public long PlayerStartBps(bool vp8) => vp8 ? Vp8BitRate + AudioStartBps : VideoTranscoded ? TranscodeBitRate + AudioStartBps : -1;

    private long AudioStartBps => HasAudio && AudioToOpus ? 32_000L * Math.Max(1, AudioChannels) + AudioRtpOverheadBps : 0;

    private long AudioBps => _opus is { } o && AudioToOpus ? o.BitRate + AudioRtpOverheadBps : 0;

    /// <summary>Encode thread, before each frame: the controller's answer to the players' figure, applied (nothing when unchanged).</summary>
    private static long Retarget(VideoTranscoder t, ref EncoderRateController? rate, long playersBps, long audioBps)
    {
        long now = Environment.TickCount64 * 1000;
        rate ??= new EncoderRateController(t.BitRate, now);
        long bps = rate.Update(now, playersBps, audioBps);
        t.SetBitRate(bps);
        return bps;
    }

    /// <summary>Thread-safe: a VP8 player joined or sent a PLI; the VP8 encoder's next frame is a keyframe.</summary>
    public void RequestVp8Keyframe() => _vp8KeyframeRequested = true;

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
            _opus?.Dispose();
            _video?.Dispose();
            _vp8?.Dispose();
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
        // nginx-rtmp sends both sequence headers right after Play.Start; wait briefly for the second,
        // and for the first key frame: its composition offset says whether to transcode (the answer's
        // profile), and a new player then finds it in the GOP cache.
        bool videoReady = video && (_keyframeSeen || now - _videoConfigAt > KeyframeWaitMillis);
        if ((videoReady && (audio || now - _videoConfigAt > 1000)) || (!video && audio && now - _audioConfigAt > 1500))
        {
            HasVideo = video;
            HasAudio = audio;
            if (video)
                ProfileLevelId = VideoTranscoded
                    ? $"42e0{Math.Max(_demux.Level, 0x1f):x2}"
                    : $"{_demux.Profile:x2}{_demux.ProfileCompatibility:x2}{_demux.Level:x2}";
            if (audio)
            {
                AudioChannels = _opus?.Channels ?? _demux.AudioConfig.Channels;
                AudioToOpus = _opus != null;
            }
            _state = PullState.Ready;
            _settled.Set();
        }
        else if (now - _started > MediaTimeoutMillis)
            End(PullState.Failed, _playStarted ? "no media from the RTMP server (is the stream published?)" : "the RTMP server did not start the play");
    }

    internal void End(PullState state, string why)
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
        if (r == FlvDemuxResult.ConfigChanged)
        {
            _video?.Reset(); // new SPS/PPS: the decoder starts again at the next key frame
            _videoNeedsKeyframe = true;
            _vp8?.Reset();
            _vp8NeedsKeyframe = true;
        }
        if (r != FlvDemuxResult.Frame)
            return;
        Interlocked.Increment(ref VideoFrames);
        if (frame.CompositionMillis != 0 && !VideoTranscoded && !VideoDropped)
        {
            // Reordered frames cannot be packetized as they are (WebRTC players do not reorder).
            VideoTranscoded = true;
            _videoNeedsKeyframe = true;
            if (!_bFramesLogged)
                Log.Notice($"pull '{Stream}' ({SourceUrl}): the H.264 source has B-frames (composition offset {frame.CompositionMillis} ms); its video is transcoded to Constrained Baseline (send -bf 0 to spare it)");
            _bFramesLogged = true;
        }
        if (frame.Keyframe)
            _keyframeSeen = true;
        if (VideoDropped || _state != PullState.Ready && _state != PullState.Connecting)
            return;
        EncodeVp8(frame);
        if (!VideoTranscoded)
        {
            Enqueue(PulledFrame.Copy(frame.AnnexB, true, frame.Keyframe, frame.DtsMillis));
            return;
        }
        if (_videoNeedsKeyframe && !frame.Keyframe)
            return;
        if (_video == null)
        {
            try
            {
                FfmpegLibrary.Load();
                _video = new VideoTranscoder(new VideoEncoderSettings(GopFrames: 30, BitRate: TranscodeBitRate), annexB: true);
            }
            catch (FfmpegException ex)
            {
                VideoDropped = true;
                Log.Warn($"pull '{Stream}': no H.264 transcoder ({ex.Message}); its video is dropped");
                return;
            }
        }
        _videoNeedsKeyframe = false;
        if (_keyframeRequested)
        {
            _keyframeRequested = false;
            Interlocked.Increment(ref KeyframesRequested);
            _video.RequestKeyframe();
        }
        Volatile.Write(ref _encoderTargetBps, Retarget(_video, ref _videoRate, Volatile.Read(ref _h264PlayersBps), AudioBps));
        long errors = _video.DecodeErrors;
        _video.Transcode(Rtp.Media.MediaCodec.H264, frame.AnnexB, frame.DtsMillis, frame.PtsMillis, this);
        if (_video.DecodeErrors != errors)
            Interlocked.Increment(ref TranscodeErrors);
    }

    /// <summary>Pull thread: the source frame to VP8 while a VP8 player exists; the encoder closes when the last one leaves.</summary>
    private void EncodeVp8(in FlvVideoFrame frame)
    {
        if (Volatile.Read(ref _vp8Players) <= 0 || _vp8Failed)
        {
            if (_vp8 != null)
            {
                _vp8.Dispose();
                _vp8 = null;
                Volatile.Write(ref _vp8EncoderTargetBps, -1);
                _vp8NeedsKeyframe = true;
            }
            return;
        }
        if (_vp8NeedsKeyframe && !frame.Keyframe)
            return;
        if (_vp8 == null)
        {
            try
            {
                FfmpegLibrary.Load();
                _vp8 = new VideoTranscoder(new VideoEncoderSettings(GopFrames: 60, BitRate: Vp8BitRate), annexB: true, output: Rtp.Media.MediaCodec.Vp8);
                _vp8Rate = null; // a new encoder starts at the configured rate
                _vp8Sink ??= new Vp8Sink(this);
                _vp8KeyframeRequested = false; // a new encoder starts with one
            }
            catch (FfmpegException ex)
            {
                _vp8Failed = true;
                Log.Warn($"pull '{Stream}': no VP8 encoder ({ex.Message}); players offering only VP8 get no video");
                return;
            }
        }
        _vp8NeedsKeyframe = false;
        if (_vp8KeyframeRequested)
        {
            _vp8KeyframeRequested = false;
            _vp8.RequestKeyframe();
        }
        Volatile.Write(ref _vp8EncoderTargetBps, Retarget(_vp8, ref _vp8Rate, Volatile.Read(ref _vp8PlayersBps), AudioBps));
        long errors = _vp8.DecodeErrors;
        _vp8.Transcode(Rtp.Media.MediaCodec.H264, frame.AnnexB, frame.DtsMillis, frame.PtsMillis, _vp8Sink!);
        if (_vp8.DecodeErrors != errors)
            Interlocked.Increment(ref TranscodeErrors);
    }

    private sealed class Vp8Sink(RtmpPull pull) : IVideoPacketSink
    {
        public void OnVideoPacket(ReadOnlySpan<byte> vp8, long millis, bool isKeyframe)
        {
            Interlocked.Increment(ref pull.Vp8FramesEncoded);
            pull.Enqueue(PulledFrame.Copy(vp8, true, isKeyframe, millis, vp8: true));
        }
    }

    /// <summary>The transcoder's Annex B output (SPS/PPS in front of each IDR), in presentation order.</summary>
    public void OnVideoPacket(ReadOnlySpan<byte> annexB, long millis, bool isKeyframe)
    {
        Interlocked.Increment(ref VideoFramesTranscoded);
        Enqueue(PulledFrame.Copy(annexB, true, isKeyframe, millis));
    }

    public void OnOpusPacket(ReadOnlySpan<byte> opus, long millis)
    {
        Interlocked.Increment(ref AudioFramesTranscoded);
        Enqueue(PulledFrame.Copy(opus, false, false, millis));
    }

    private void OnAudio(uint millis, ReadOnlySpan<byte> tag)
    {
        var r = _demux.DemuxAudio(millis, tag, out var frame);
        if (r == FlvDemuxResult.Config && _audioConfigAt < 0)
            _audioConfigAt = Environment.TickCount64;
        if (r is FlvDemuxResult.Config or FlvDemuxResult.ConfigChanged)
            OpenOpus();
        if (r != FlvDemuxResult.Frame)
            return;
        Interlocked.Increment(ref AudioFrames);
        if (_opus == null || _state != PullState.Ready && _state != PullState.Connecting)
            return;
        long errors = _opus.DecodeErrors;
        _opus.Transcode(frame.Data, frame.Millis, this);
        if (_opus.DecodeErrors != errors)
            Interlocked.Increment(ref TranscodeErrors);
    }

    private void OpenOpus()
    {
        if (_opusFailed || _demux.AudioConfigVersion == _opusConfigVersion)
            return;
        _opusConfigVersion = _demux.AudioConfigVersion;
        _opus?.Dispose();
        _opus = null;
        try
        {
            FfmpegLibrary.Load();
            _opus = new OpusTranscoder(_demux.AudioSpecificConfig);
        }
        catch (Exception ex) when (ex is FfmpegException or ArgumentException)
        {
            _opusFailed = true;
            Log.Warn($"pull '{Stream}': no AAC to Opus transcoder ({ex.Message}); its audio is not sent");
        }
    }

    /// <summary>Pull thread (and tests, whose pull has no thread): one frame towards the media loop.</summary>
    internal void Enqueue(in PulledFrame f)
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
