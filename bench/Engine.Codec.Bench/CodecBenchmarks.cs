using BenchmarkDotNet.Attributes;
using Engine.Codec.Rtmp;
using Engine.Rtp;
using Engine.Rtp.Media;
using Engine.Rtp.Receive;

namespace Engine.Codec.Bench;

/// <summary>
/// The engine's per-frame costs on the recorded Chromium stream, in process on one thread: the
/// H.264 remux (MediaTimeline + FlvMuxer into /dev/null), the same behind the FrameQueue hand-off,
/// the whole video path from RTP packets, the same two through our RTMP client's session (what the
/// media thread does now; its output is taken as a send would), and Opus to AAC per 20 ms packet. The recording loops:
/// every loop adds its period to the timestamps, so the muxer sees one continuous stream.
/// </summary>
[MemoryDiagnoser]
public unsafe class CodecBenchmarks
{
    private const int FramesPerInvoke = 300, AudioPerInvoke = 50;

    private sealed record Frame(byte[] Data, uint RtpTimestamp, long ArrivalMicros, bool IsKeyframe, int FirstPacket, int PacketCount);

    private Recording _rec = null!;
    private Frame[] _video = null!, _audio = null!;
    private Recording.Packet[] _videoPackets = null!;
    private FlvMuxer _muxer = null!;
    private MediaTimeline _timeline = null!;
    private FrameQueue _queue = null!;
    private AudioTranscoder _transcoder = null!;
    private RtpReceiveStream _receive = null!;
    private readonly DiscardAudio _discard = new();
    private QueueSink _queueSink = null!;
    private RtmpPublishSession _rtmp = null!;
    private RtpReceiveStream _receiveDirect = null!;
    private readonly object _lock = new();
    private readonly byte[] _packet = new byte[1500];
    private int _cursor, _loop, _audioCursor, _audioLoop;

    [GlobalSetup]
    public void Setup()
    {
        FfmpegLibrary.Load();
        _rec = Recording.Load();
        int video = _rec.VideoTrack;
        _videoPackets = _rec.Packets.Where(p => p.Track == video).ToArray();
        // Frames as RtpReceiveStream emits them, with the packets each came from.
        var collect = new CollectSink();
        var videoIn = new RtpReceiveStream(MediaCodec.H264, 90000, 0, collect, useNack: false);
        for (int i = 0; i < _videoPackets.Length; i++)
        {
            collect.Packet = i;
            RtpPacketView.TryRead(_videoPackets[i].Data, out var view);
            videoIn.OnRtp(view, _videoPackets[i].OffsetMicros);
        }
        _video = collect.Frames.ToArray();
        var audioIn = new CollectSink();
        var opus = new RtpReceiveStream(MediaCodec.Opus, 48000, 0, audioIn, useNack: false);
        foreach (var p in _rec.Packets.Where(p => p.Track == _rec.AudioTrack))
        {
            RtpPacketView.TryRead(p.Data, out var view);
            opus.OnRtp(view, p.OffsetMicros);
        }
        _audio = audioIn.Frames.ToArray();
        if (_video.Length == 0 || !_video[0].IsKeyframe || !AvcConfig.TryFindParameterSets(_video[0].Data, out var sps, out var pps))
            throw new InvalidDataException("the recording does not start with an SPS/PPS keyframe");
        var avcC = new byte[AvcConfig.AvcCLength(sps.GetOffsetAndLength(_video[0].Data.Length).Length, pps.GetOffsetAndLength(_video[0].Data.Length).Length)];
        AvcConfig.WriteAvcC(avcC, _video[0].Data.AsSpan()[sps], _video[0].Data.AsSpan()[pps]);
        Engine.Rtp.Video.H264Sps.TryParse(_video[0].Data.AsSpan()[sps], out var parsed);
        _muxer = FlvMuxer.Open("/dev/null", new FlvMuxer.VideoParameters(avcC, parsed.Width, parsed.Height), null, null, 0);
        _timeline = new MediaTimeline(1);
        _queue = new FrameQueue(600, 32 << 20);
        _queueSink = new QueueSink(_queue);
        _receive = new RtpReceiveStream(MediaCodec.H264, 90000, 0, _queueSink, useNack: true);
        // A session taken live by what nginx-rtmp answered a publisher (recorded), as after a connect.
        _rtmp = new RtmpPublishSession(new RtmpUrl("127.0.0.1", 1935, "live", "bench"), 32 << 20);
        _rtmp.Start(0);
        _rtmp.Receive(File.ReadAllBytes(Path.Combine(Recording.FindDataDirectory(), "nginx-rtmp-publish-server.bin")));
        if (!_rtmp.IsLive)
            throw new InvalidOperationException("RTMP session not live: " + _rtmp.Error);
        _rtmp.WriteVideo(0, true, true, avcC);
        _rtmp.Outgoing.Consume(_rtmp.Outgoing.Length);
        _receiveDirect = new RtpReceiveStream(MediaCodec.H264, 90000, 0, new DirectSink(this), useNack: true);
        // As FlvOutput does: the channel count of the publisher's Opus (a browser microphone: mono).
        _transcoder = new AudioTranscoder(AudioTranscoder.IsStereo(_audio[0].Data) ? 2 : 1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _muxer.Close();
        _transcoder.Dispose();
        Console.WriteLine($"// {_video.Length} video frames ({_video.Sum(f => (long)f.Data.Length) / _video.Length} B average), {_audio.Length} Opus packets per loop; AAC frames {_transcoder.FramesEncoded}");
    }

    [Benchmark(OperationsPerInvoke = FramesPerInvoke, Description = "H.264 remux per frame: MediaTimeline + FlvMuxer.WriteVideo")]
    public void Remux()
    {
        for (int i = 0; i < FramesPerInvoke; i++)
        {
            var f = NextFrame(out uint ts, out long arrival);
            long ms = _timeline.ToMillis(0, ts, 90000, -1, arrival);
            _muxer.WriteVideo(f.Data, ms, f.IsKeyframe, default);
        }
    }

    [Benchmark(OperationsPerInvoke = FramesPerInvoke, Description = "H.264 remux per frame, our RTMP client: MediaTimeline + RtmpPublishSession.WriteVideo")]
    public void RemuxRtmp()
    {
        for (int i = 0; i < FramesPerInvoke; i++)
        {
            var f = NextFrame(out uint ts, out long arrival);
            WriteDirect(f.Data, ts, arrival, f.IsKeyframe);
        }
    }

    [Benchmark(OperationsPerInvoke = FramesPerInvoke, Description = "H.264 per frame, our RTMP client: RTP packets -> RtpReceiveStream -> remux (no queue)")]
    public void PacketsToRtmp()
    {
        for (int i = 0; i < FramesPerInvoke; i++)
            FeedPackets(_receiveDirect);
    }

    // What FlvOutput does on the media thread with our client: under its lock, time and append; the pump's send is the Consume.
    private void WriteDirect(ReadOnlySpan<byte> data, uint ts, long arrival, bool key)
    {
        lock (_lock)
        {
            long ms = _timeline.ToMillis(0, ts, 90000, -1, arrival);
            _rtmp.WriteVideo((uint)ms, key, false, data);
        }
        _rtmp.Outgoing.Consume(_rtmp.Outgoing.Length);
    }

    [Benchmark(OperationsPerInvoke = FramesPerInvoke, Description = "H.264 per frame: FrameQueue copy in/out + remux")]
    public void QueueAndRemux()
    {
        for (int i = 0; i < FramesPerInvoke; i++)
        {
            var f = NextFrame(out uint ts, out long arrival);
            _queue.TryEnqueue(0, new EncodedFrame(MediaCodec.H264, f.Data, ts, 90000, -1, arrival, f.IsKeyframe));
            DrainQueue();
        }
    }

    [Benchmark(OperationsPerInvoke = FramesPerInvoke, Description = "H.264 per frame: RTP packets -> RtpReceiveStream -> FrameQueue -> remux")]
    public void PacketsToFlv()
    {
        for (int i = 0; i < FramesPerInvoke; i++)
        {
            FeedPackets(_receive);
            DrainQueue();
        }
    }

    [Benchmark(OperationsPerInvoke = AudioPerInvoke, Description = "Opus to AAC per 20 ms packet: AudioTranscoder")]
    public void OpusToAac()
    {
        for (int i = 0; i < AudioPerInvoke; i++)
        {
            if (_audioCursor == _audio.Length)
            {
                _audioCursor = 0;
                _audioLoop++;
            }
            var f = _audio[_audioCursor++];
            long ms = (f.ArrivalMicros + _audioLoop * _rec.PeriodMicros) / 1000;
            _transcoder.Transcode(f.Data, ms, _discard);
        }
    }

    // The next frame's RTP packets, as received, into a receive stream.
    private void FeedPackets(RtpReceiveStream receive)
    {
        var f = NextFrame(out _, out long arrival);
        for (int k = 0; k < f.PacketCount; k++)
        {
            var p = _videoPackets[f.FirstPacket + k];
            int n = _rec.Write(p, _loop, 0x1234, _packet);
            RtpPacketView.TryRead(_packet.AsSpan(0, n), out var view);
            receive.OnRtp(view, arrival);
        }
    }

    private Frame NextFrame(out uint ts, out long arrival)
    {
        if (_cursor == _video.Length)
        {
            _cursor = 0;
            _loop++;
        }
        var f = _video[_cursor++];
        ts = f.RtpTimestamp + (uint)_loop * _rec.TimestampSpan[_rec.VideoTrack];
        arrival = f.ArrivalMicros + _loop * _rec.PeriodMicros;
        return f;
    }

    private void DrainQueue()
    {
        while (_queue.TryDequeue(out var q, out _))
        {
            long ms = _timeline.ToMillis(0, q.RtpTimestamp, q.ClockRate, q.SenderNtpMicros, q.ArrivalMicros);
            _muxer.WriteVideo(q.Data, ms, q.IsKeyframe, default);
            _queue.Release(ref q);
        }
    }

    private sealed class CollectSink : IEncodedFrameSink
    {
        public readonly List<Frame> Frames = [];
        public int Packet;
        private int _firstPacket;

        public void OnFrame(int trackIndex, in EncodedFrame frame)
        {
            Frames.Add(new Frame(frame.Data.ToArray(), frame.RtpTimestamp, frame.ArrivalMicros, frame.IsKeyframe, _firstPacket, Packet - _firstPacket + 1));
            _firstPacket = Packet + 1;
        }

        public void OnEnd() { }
    }

    private sealed class QueueSink(FrameQueue queue) : IEncodedFrameSink
    {
        public void OnFrame(int trackIndex, in EncodedFrame frame) => queue.TryEnqueue(trackIndex, frame);
        public void OnEnd() { }
    }

    private sealed class DirectSink(CodecBenchmarks b) : IEncodedFrameSink
    {
        public void OnFrame(int trackIndex, in EncodedFrame frame) => b.WriteDirect(frame.Data, frame.RtpTimestamp, frame.ArrivalMicros, frame.IsKeyframe);
        public void OnEnd() { }
    }

    private sealed class DiscardAudio : IAudioPacketSink
    {
        public long Bytes;
        public void OnAudioPacket(ReadOnlySpan<byte> aac, long millis) => Bytes += aac.Length;
    }
}
