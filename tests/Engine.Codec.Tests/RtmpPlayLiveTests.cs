using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Engine.Codec.Rtmp;
using static Engine.Codec.Tests.FlvTestFiles;

namespace Engine.Codec.Tests;

/// <summary>
/// The play client against a real nginx-rtmp on loopback: ffmpeg pushes a 640x480 30 fps H.264
/// High stream with B-frames and an AAC sine tone; a plain blocking socket loop drives the session.
/// With ENGINE_RECORD_RTMP_PLAY=path it also writes what the server sent (how
/// tests/fixtures/rtmp/nginx-rtmp-play-server.bin was made).
/// </summary>
public sealed class RtmpPlayLiveTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("engine-rtmpplay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Collector : IRtmpPlayHandler
    {
        public readonly FlvTagDemuxer Demux = new();
        public readonly List<RtmpPlayEventKind> Events = new();
        public readonly List<(long Dts, long Pts, int Size, bool Key)> Video = new();
        public readonly List<(long Pts, int Size)> Audio = new();
        public RtmpPlayMetadata Metadata;

        public void OnEvent(in RtmpPlayEvent e)
        {
            switch (e.Kind)
            {
                case RtmpPlayEventKind.Video:
                    if (Demux.DemuxVideo(e.Millis, e.Payload, out var v) == FlvDemuxResult.Frame)
                        Video.Add((v.DtsMillis, v.PtsMillis, v.TagDataLength, v.Keyframe));
                    return;
                case RtmpPlayEventKind.Audio:
                    if (Demux.DemuxAudio(e.Millis, e.Payload, out var a) == FlvDemuxResult.Frame)
                        Audio.Add((a.Millis, a.Data.Length));
                    return;
                case RtmpPlayEventKind.Metadata:
                    Metadata = e.Metadata;
                    break;
            }
            Events.Add(e.Kind);
        }
    }

    [Fact]
    public void PlaysWhatFfmpegPushesThroughNginx_FrameForFrame()
    {
        string file = Make(_dir, "push.flv", 3, HighWithBFrames, Aac(44100, 2));
        using var nginx = new LocalNginxRtmp();
        Assert.True(RtmpUrl.TryParse(nginx.Url("cam"), out var url));
        var collector = new Collector();
        var session = new RtmpPlaySession(url, collector);
        var capture = new MemoryStream();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 200, NoDelay = true };
        socket.Connect(IPAddress.Loopback, nginx.Port);
        session.Start(0);
        Process? ffmpeg = null;
        byte[] rx = new byte[64 * 1024];
        var clock = Stopwatch.StartNew();
        long quietSince = 0;
        try
        {
            while (clock.ElapsedMilliseconds < 30_000 && !session.HasFailed)
            {
                while (session.Outgoing.Length > 0)
                    session.Outgoing.Consume(socket.Send(session.Outgoing.Span));
                int n;
                try
                {
                    n = socket.Receive(rx);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                {
                    n = -1;
                }
                if (n == 0)
                    break;
                if (n > 0)
                {
                    capture.Write(rx, 0, n);
                    session.Receive(rx.AsSpan(0, n));
                    quietSince = clock.ElapsedMilliseconds;
                }
                // The player is in before the publisher, so it gets the stream from its first frame.
                if (ffmpeg == null && session.State == RtmpPlayState.Playing)
                    ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg", ["-v", "error", "-nostdin", "-re", "-i", file, "-c", "copy", "-f", "flv", nginx.Url("cam")]) { UseShellExecute = false })!;
                if (ffmpeg is { HasExited: true } && (collector.Events.Contains(RtmpPlayEventKind.PlayStop) || clock.ElapsedMilliseconds - quietSince > 3000))
                    break;
            }
            Assert.NotNull(ffmpeg);
            Assert.True(ffmpeg.WaitForExit(10_000));
            Assert.Equal(0, ffmpeg.ExitCode);
        }
        finally
        {
            if (ffmpeg is { HasExited: false })
                ffmpeg.Kill();
            ffmpeg?.Dispose();
        }
        if (Environment.GetEnvironmentVariable("ENGINE_RECORD_RTMP_PLAY") is { Length: > 0 } record)
            File.WriteAllBytes(record, capture.ToArray());

        Assert.False(session.HasFailed, session.Error);
        // nginx-rtmp (publish_notify off, its default) ends a publish with the user control StreamEOF.
        Assert.Equal([RtmpPlayEventKind.PlayStart, RtmpPlayEventKind.Metadata, RtmpPlayEventKind.PlayStop], collector.Events);
        Assert.Equal((640.0, 480.0), (collector.Metadata.Width, collector.Metadata.Height));
        var d = collector.Demux;
        Assert.Equal(100, d.Profile); // High
        Assert.True(Engine.Rtp.Video.H264Sps.TryParse(d.Sps, out var sps));
        Assert.Equal((640, 480), (sps.Width, sps.Height));
        Assert.True(d.HasBFrames);
        Assert.Equal(new AacAudioSpecificConfig(2, 44100, 2, 2), d.AudioConfig);
        Assert.Equal(0, d.Malformed + d.FramesBeforeConfig + d.Unsupported);

        // What nginx relayed is what ffmpeg pushed: every frame, its size, key flag, composition
        // offset and spacing (nginx may shift the time origin, so times are compared from the first).
        var packets = Packets(file);
        var video = packets.Where(p => p.CodecType == "video").ToList();
        var audio = packets.Where(p => p.CodecType == "audio").ToList();
        Assert.Equal(90, video.Count);
        Assert.Equal(video.Count, collector.Video.Count);
        long v0 = collector.Video[0].Dts - video[0].Dts;
        for (int i = 0; i < video.Count; i++)
            Assert.Equal((video[i].Dts + v0, video[i].Pts + v0, video[i].Size, video[i].Key), collector.Video[i]);
        Assert.Equal(audio.Count, collector.Audio.Count);
        long a0 = collector.Audio[0].Pts - audio[0].Pts;
        for (int i = 0; i < audio.Count; i++)
            Assert.Equal((audio[i].Pts + a0, audio[i].Size), collector.Audio[i]);
        Assert.Equal(v0, a0); // one time origin for both tracks
        Assert.True(session.AcknowledgementsSent > 0 || session.BytesReceived < session.AckWindow, "no acknowledgement after a window of bytes");
    }
}
