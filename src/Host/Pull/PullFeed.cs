using Engine.Host.Transport;
using Engine.Ice;

namespace Engine.Host.Pull;

/// <summary>
/// The media-loop side of one <see cref="RtmpPull"/>: a session with no address (nothing routes to
/// it) whose timer drains the pull's queue every 2 ms, keeps the GOP cache (from the last key frame,
/// SPS/PPS in front) and hands every frame to its players on the loop thread. When the source
/// ends or fails, its players end. VP8 frames (encoded by the pull while a VP8 player is attached)
/// go to VP8 players only and are not cached: such a player asks the encoder for a keyframe instead.
/// Loop thread only, but for <see cref="RequestClose"/>.
/// </summary>
internal sealed class PullFeed : IMediaSession
{
    private const long PollMicros = 2_000;
    private const int MaxFramesPerPoll = 256, MaxGopFrames = 600, MaxGopBytes = 32 << 20;
    // How often the players' send-side targets are gathered for the pull's encoders (GCC reports come every 50-100 ms).
    private const long TargetsIntervalMicros = 50_000;
    private long _nextTargets;

    private readonly RtmpPull _pull;
    private readonly List<PullPlayer> _players = new();
    private readonly List<PulledFrame> _gop = new();
    private readonly Action<IMediaSession> _markDirty;
    private int _gopBytes;
    private bool _gopValid;
    private volatile bool _closeRequested;
    private bool _closed;
    private long _next;

    public PullFeed(RtmpPull pull, Action<IMediaSession> markDirty, long nowMicros)
    {
        _pull = pull;
        _markDirty = markDirty;
        LocalUfrag = "pull-" + Guid.NewGuid().ToString("N");
        _next = nowMicros;
    }

    public RtmpPull Pull => _pull;
    public string LocalUfrag { get; }
    public NetAddress? SelectedRemote => null;
    public bool IsClosed => _closed;
    public long NextTimeoutMicros => _closed ? long.MaxValue : _next;
    public string? EndReason { get; private set; }
    /// <summary>Key frames served to players from the cache (on join and on PLI).</summary>
    public long CacheReplays;
    public long VideoFramesFed, AudioFramesFed;

    /// <summary>Thread-safe: the feed (and its players) end at its next timer.</summary>
    public void RequestClose() => _closeRequested = true;

    public void HandleDatagram(Span<byte> datagram, in NetAddress from, long nowMicros)
    {
    }

    public bool TryPollTransmit(Span<byte> destination, out int length, out NetAddress to)
    {
        length = 0;
        to = default;
        return false;
    }

    public void HandleTimeout(long nowMicros)
    {
        _next = nowMicros + PollMicros;
        for (int i = 0; i < MaxFramesPerPoll && _pull.TryTake(out var f); i++)
            Feed(f, nowMicros);
        if (nowMicros >= _nextTargets)
        {
            _nextTargets = nowMicros + TargetsIntervalMicros;
            PublishTargets();
        }
        if (_closeRequested || _pull.State is PullState.Ended or PullState.Failed)
        {
            EndReason = _closeRequested ? "the pull closed" : "the RTMP source ended: " + _pull.Error;
            foreach (var p in _players)
            {
                p.RequestClose(EndReason);
                _markDirty(p); // its timer is re-read: it closes now
            }
            _closed = true;
        }
    }

    private void Feed(in PulledFrame f, long nowMicros)
    {
        if (f.Vp8)
        {
            for (int i = 0; i < _players.Count; i++)
                if (_players[i].IsVp8 && _players[i].WriteVideo(f.Data, f.Keyframe, f.Millis, nowMicros))
                    _markDirty(_players[i]);
        }
        else if (f.Video)
        {
            VideoFramesFed++;
            if (f.Keyframe)
            {
                ClearGop();
                _gopValid = true;
            }
            for (int i = 0; i < _players.Count; i++)
                if (!_players[i].IsVp8 && _players[i].WriteVideo(f.Data, f.Keyframe, f.Millis, nowMicros))
                    _markDirty(_players[i]);
            if (_gopValid && _gop.Count < MaxGopFrames && _gopBytes + f.Length <= MaxGopBytes)
            {
                _gop.Add(f); // the cache owns the buffer now
                _gopBytes += f.Length;
                return;
            }
            _gopValid = false; // too long a GOP: stop caching until the next key frame
        }
        else
        {
            AudioFramesFed++;
            for (int i = 0; i < _players.Count; i++)
                if (_players[i].WriteAudio(f.Data, f.Millis, nowMicros))
                    _markDirty(_players[i]);
        }
        f.Release();
    }

    /// <summary>The lowest target of the H.264 players and of the VP8 players, for the pull's encode thread (which never waits on us).</summary>
    private void PublishTargets()
    {
        long h264 = -1, vp8 = -1;
        for (int i = 0; i < _players.Count; i++)
        {
            long t = _players[i].RefreshTargetBps();
            if (t < 0)
                continue;
            ref long min = ref _players[i].IsVp8 ? ref vp8 : ref h264;
            if (min < 0 || t < min)
                min = t;
        }
        _pull.SetPlayerTargets(h264, vp8);
    }

    /// <summary>Loop thread: a player connected or asked for a key frame; false when there is nothing cached.</summary>
    public bool Replay(PullPlayer player, long nowMicros)
    {
        if (player.IsVp8)
        {
            _pull.RequestVp8Keyframe();
            return true;
        }
        if (!_gopValid || _gop.Count == 0)
        {
            _pull.RequestKeyframe(); // a transcoded source's next frame is then an IDR
            return false;
        }
        CacheReplays++;
        player.WriteReplay(_gop, nowMicros);
        _markDirty(player);
        return true;
    }

    /// <summary>Loop thread, at the player's first timer; false when the feed is over.</summary>
    public bool Attach(PullPlayer player)
    {
        if (_closed || _closeRequested)
            return false;
        _players.Add(player);
        if (player.IsVp8)
            _pull.AddVp8Player();
        return true;
    }

    public void Detach(PullPlayer player)
    {
        if (_players.Remove(player) && player.IsVp8)
            _pull.RemoveVp8Player();
    }

    private void ClearGop()
    {
        foreach (var g in _gop)
            g.Release();
        _gop.Clear();
        _gopBytes = 0;
    }

    public void OnRemoved()
    {
        _closed = true;
        foreach (var p in _players)
            p.RequestClose(EndReason ?? "the pull closed");
        ClearGop();
        _pull.Stop();
        _pull.DrainQueue();
        OnClosed?.Invoke(this);
    }

    /// <summary>Raised on the loop thread once the feed left the loop.</summary>
    public Action<PullFeed>? OnClosed { get; set; }
}
