using Engine.Codec;
using Engine.Host.Config;
using Engine.Host.Output;
using Engine.Host.Sessions;
using Engine.Rtp.Media;

namespace Engine.Host.Media;

/// <summary>
/// Builds what a published stream's frames go to, from the config: FLV pushed to
/// RTP2RTMPBASEURL/{stream} (plus RTP2RTMPBASERECORDURL/{stream} when the request records), or
/// recorded to RECORDDIR/{stream}.flv when no base URL is set, or the legacy RTP2RTMPSHELL script.
/// </summary>
public sealed class StreamSinkFactory(EngineConfig config, string? dumpDirectory)
{
    // Every FLV output until it has closed: a stop waits for their trailers and unpublishes.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<FlvOutput, byte> _open = new(ReferenceEqualityComparer.Instance);

    /// <summary>The outputs not closed yet (any thread; a snapshot).</summary>
    public IReadOnlyList<FlvOutput> OpenOutputs => _open.Keys.ToList();

    public IEncodedFrameSink Create(SinkRequest request)
    {
        var sinks = new List<IEncodedFrameSink>();
        if (dumpDirectory != null)
            sinks.Add(new FrameDumpSink(dumpDirectory, request.Stream));
        if (config.Rtp2RtmpShell is { } script)
            sinks.Add(CreateShell(script, request));
        else
            sinks.Add(new FlvPublishSink(Outputs(request)));
        return sinks.Count == 1 ? sinks[0] : new TeeFrameSink(sinks);
    }

    /// <summary>The URL sendSdpCall answers with (data.rtmpUrl), or null when nothing is pushed.</summary>
    public static string? RtmpUrl(EngineConfig config, string stream) =>
        config.Rtp2RtmpBaseUrl is { } b ? $"{b.TrimEnd('/')}/{stream}" : null;

    /// <summary>Whether the configured outputs go through libavformat (files, rtmps, RTMP_CLIENT=ffmpeg), so start-up checks it.</summary>
    public static bool NeedsLibavformat(EngineConfig config) =>
        config.Rtp2RtmpShell == null &&
        (RtmpUrl(config, "stream") is not { } url || FlvOutput.NeedsLibavformat(url, config.RtmpClient)
         || (RecordUrl(config, "stream") is { } rec && FlvOutput.NeedsLibavformat(rec, config.RtmpClient)));

    private static string? RecordUrl(EngineConfig config, string stream) =>
        config.Rtp2RtmpBaseRecordUrl is { } b ? $"{b.TrimEnd('/')}/{stream}" : null;

    private List<FlvOutput> Outputs(SinkRequest request)
    {
        var options = new FlvOutputOptions
        {
            Policy = config.Transcode,
            Client = config.RtmpClient,
            Encoder = new VideoEncoderSettings(config.TranscodeGopFrames, config.TranscodeBps > 0 ? config.TranscodeBps : config.MaxVideoBps),
        };
        var outputs = new List<FlvOutput>();
        if (RtmpUrl(config, request.Stream) is { } url)
        {
            outputs.Add(new FlvOutput(url, request.Tracks, options, "rtmp " + request.Stream));
            if (request.Record && RecordUrl(config, request.Stream) is { } rec)
                outputs.Add(new FlvOutput(rec, request.Tracks, options, "rtmp-rec " + request.Stream));
        }
        else
        {
            Directory.CreateDirectory(config.RecordDirectory);
            string path = Path.Combine(config.RecordDirectory, PlainRtpSdp.SafeName(request.Stream) + ".flv");
            outputs.Add(new FlvOutput(path, request.Tracks, options with { Retry = false }, "flv " + request.Stream));
        }
        foreach (var o in outputs)
        {
            _open[o] = 0;
            o.Completion.ContinueWith(_ => _open.TryRemove(o, out byte _), TaskScheduler.Default);
        }
        return outputs;
    }

    private ShellForwardSink CreateShell(string script, SinkRequest request)
    {
        string url = RtmpUrl(config, request.Stream) ?? $"rtmp://127.0.0.1/live/{request.Stream}";
        if (request.Record && RecordUrl(config, request.Stream) is { } rec)
            url = rec;
        return new ShellForwardSink(script, url, NeedsTranscode(config.Transcode, request.Tracks), Path.Combine(config.LogDir ?? ".", "rtp2rtmp"), request);
    }

    /// <summary>The legacy transcode flag, from the negotiated profile (the script starts before any frame).</summary>
    public static bool NeedsTranscode(TranscodePolicy policy, IReadOnlyList<TrackInfo> tracks)
    {
        foreach (var t in tracks)
        {
            if (!t.IsVideo)
                continue;
            if (t.Codec != MediaCodec.H264 || policy == TranscodePolicy.Always)
                return true;
            if (policy == TranscodePolicy.Passthrough)
                return false;
            return !AvcConfig.IsConstrainedBaselineFmtp(t.FormatParameters);
        }
        return false;
    }
}
