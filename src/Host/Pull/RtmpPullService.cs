using System.Text.Json;
using Engine.Codec.Rtmp;
using Engine.Host.Config;
using Engine.Host.Logging;
using Engine.Host.Transport;

namespace Engine.Host.Pull;

/// <summary>
/// One RTMP pull per stream (<c>RTMP2RTPBASEURL[_server_id]/{stream}</c>), shared by all its players:
/// started by the first, closed <see cref="LingerMillis"/> after the last one left, dropped when its
/// source ends so that a source that comes back is pulled again. Thread-safe (HTTP threads acquire,
/// the loop releases).
/// </summary>
internal sealed class RtmpPullService
{
    public const int LingerMillis = 3000;
    private const int SettleTimeoutMillis = 4500;

    private sealed class Entry(RtmpPull pull, PullFeed feed)
    {
        public readonly RtmpPull Pull = pull;
        public readonly PullFeed Feed = feed;
        public int Players;
        public long Generation;
    }

    private readonly EngineConfig _config;
    private readonly MediaLoop _loop;
    private readonly Dictionary<string, Entry> _pulls = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _started;

    public RtmpPullService(EngineConfig config, MediaLoop loop)
    {
        _config = config;
        _loop = loop;
    }

    /// <summary>Pulls started since start-up (ten players of one stream: one).</summary>
    public long PullsStarted => Interlocked.Read(ref _started);

    public string? BaseUrl(string? serverId) =>
        serverId != null && _config.Rtmp2RtpBaseUrlByServerId.TryGetValue(serverId, out var u) ? u : _config.Rtmp2RtpBaseUrl;

    /// <summary>
    /// The stream's feed, its pull started when none runs, once its codecs are known (within 5 s);
    /// null with the reason when the source cannot be played. A non-null result holds a player
    /// reference: give it back with <see cref="Release"/>.
    /// </summary>
    public PullFeed? Acquire(string stream, string? serverId, out string reason)
    {
        reason = "";
        string? baseUrl = BaseUrl(serverId);
        if (baseUrl == null)
        {
            reason = "RTMP2RTPBASEURL is not set";
            return null;
        }
        string url = baseUrl.TrimEnd('/') + "/" + stream;
        Entry? entry;
        lock (_lock)
        {
            if (!_pulls.TryGetValue(url, out entry) || entry.Pull.State is PullState.Ended or PullState.Failed)
            {
                if (!RtmpUrl.TryParse(url, out var parsed))
                {
                    reason = $"'{url}' is not an rtmp:// URL our client plays";
                    return null;
                }
                var pull = new RtmpPull(stream, url, parsed);
                var feed = new PullFeed(pull, _loop.MarkDirty, MediaLoop.NowMicros());
                entry = new Entry(pull, feed);
                var e = entry;
                feed.OnClosed = _ => Forget(e);
                _pulls[url] = entry;
                Interlocked.Increment(ref _started);
                pull.Start();
                _loop.Add(feed);
                Log.Notice($"pull '{stream}': {url}");
            }
            entry.Players++;
            entry.Generation++;
        }
        if (!entry.Pull.WaitSettled(TimeSpan.FromMilliseconds(SettleTimeoutMillis)))
        {
            reason = $"stream '{stream}' cannot be pulled from {url}: {entry.Pull.Error ?? "no answer within 4.5 s"}";
            Release(entry.Feed);
            return null;
        }
        return entry.Feed;
    }

    /// <summary>A player left (or never started): the pull closes a few seconds after the last one.</summary>
    public void Release(PullFeed feed)
    {
        Entry? entry;
        long generation;
        lock (_lock)
        {
            if (!_pulls.TryGetValue(feed.Pull.SourceUrl, out entry) || !ReferenceEquals(entry.Feed, feed))
                return;
            if (--entry.Players > 0)
                return;
            generation = entry.Generation;
        }
        var e = entry;
        _ = Task.Delay(LingerMillis).ContinueWith(_ =>
        {
            lock (_lock)
            {
                if (e.Players > 0 || e.Generation != generation)
                    return;
                if (_pulls.TryGetValue(e.Pull.SourceUrl, out var cur) && ReferenceEquals(cur, e))
                    _pulls.Remove(e.Pull.SourceUrl);
            }
            Log.Notice($"pull '{e.Pull.Stream}': no players for {LingerMillis / 1000} s, closed");
            e.Feed.RequestClose();
            e.Pull.Stop();
        }, TaskScheduler.Default);
    }

    /// <summary>The server stops: every pull closes now, lingering or not.</summary>
    public void StopAll()
    {
        Entry[] entries;
        lock (_lock)
        {
            entries = _pulls.Values.ToArray();
            _pulls.Clear();
        }
        foreach (var e in entries)
        {
            e.Feed.RequestClose();
            e.Pull.Stop();
        }
    }

    private void Forget(Entry e)
    {
        lock (_lock)
        {
            if (_pulls.TryGetValue(e.Pull.SourceUrl, out var cur) && ReferenceEquals(cur, e))
                _pulls.Remove(e.Pull.SourceUrl);
        }
        if (e.Pull.State == PullState.Failed || e.Pull.State == PullState.Ended)
            Log.Notice($"pull '{e.Pull.Stream}' ended: {e.Pull.Error}");
    }

    /// <summary>The pulls held now, counted by <see cref="PullState"/> (any thread).</summary>
    internal void CountStates(Span<long> byState)
    {
        lock (_lock)
            foreach (var e in _pulls.Values)
                byState[(int)e.Pull.State]++;
    }

    public void WriteJson(Utf8JsonWriter w)
    {
        Entry[] entries;
        lock (_lock)
            entries = _pulls.Values.ToArray();
        w.WriteNumber("pullsStarted", PullsStarted);
        w.WriteStartArray("pulls");
        foreach (var e in entries)
        {
            var p = e.Pull;
            w.WriteStartObject();
            w.WriteString("stream", p.Stream);
            w.WriteString("sourceUrl", p.SourceUrl);
            w.WriteString("state", p.State.ToString().ToLowerInvariant());
            if (p.Error != null) w.WriteString("error", p.Error);
            w.WriteNumber("players", e.Players);
            w.WriteNumber("bytesReceived", p.BytesReceived);
            w.WriteNumber("bitrateBps", p.BitrateBps);
            w.WriteString("profileLevelId", p.ProfileLevelId);
            w.WriteBoolean("hasVideo", p.HasVideo);
            w.WriteBoolean("hasAudio", p.HasAudio);
            w.WriteBoolean("videoDropped", p.VideoDropped);
            w.WriteBoolean("videoTranscoded", p.VideoTranscoded);
            w.WriteBoolean("audioToOpus", p.AudioToOpus);
            w.WriteNumber("audioChannels", p.AudioChannels);
            w.WriteNumber("videoFramesTranscoded", Interlocked.Read(ref p.VideoFramesTranscoded));
            w.WriteNumber("audioFramesTranscoded", Interlocked.Read(ref p.AudioFramesTranscoded));
            w.WriteNumber("transcodeErrors", Interlocked.Read(ref p.TranscodeErrors));
            w.WriteNumber("keyframesRequested", Interlocked.Read(ref p.KeyframesRequested));
            // Issue 16: what the transcoders encode at, from the players' send-side targets (null: that encoder does not run).
            if (p.EncoderTargetBps >= 0) w.WriteNumber("encoderTargetBps", p.EncoderTargetBps); else w.WriteNull("encoderTargetBps");
            if (p.Vp8EncoderTargetBps >= 0) w.WriteNumber("vp8EncoderTargetBps", p.Vp8EncoderTargetBps); else w.WriteNull("vp8EncoderTargetBps");
            w.WriteNumber("vp8Players", p.Vp8Players);
            w.WriteNumber("vp8FramesEncoded", Interlocked.Read(ref p.Vp8FramesEncoded));
            w.WriteNumber("videoFrames", Interlocked.Read(ref p.VideoFrames));
            w.WriteNumber("audioFrames", Interlocked.Read(ref p.AudioFrames));
            w.WriteNumber("framesDropped", Interlocked.Read(ref p.FramesDropped));
            w.WriteNumber("gopReplays", Volatile.Read(ref e.Feed.CacheReplays));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
