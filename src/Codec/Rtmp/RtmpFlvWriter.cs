namespace Engine.Codec.Rtmp;

/// <summary>
/// FLV tags to an RTMP server through our own client (<see cref="RtmpPublishSession"/> on the
/// shared <see cref="RtmpPump"/>): a write appends to the connection's buffer and returns, from
/// any thread. False when the buffer is full (the caller drops); an <see cref="IOException"/> once
/// the connection has failed.
/// </summary>
internal sealed class RtmpFlvWriter : IFlvWriter
{
    private readonly RtmpConnection _connection;
    private readonly bool _hasVideo, _hasAudio;

    private RtmpFlvWriter(RtmpConnection connection, bool hasVideo, bool hasAudio)
    {
        _connection = connection;
        _hasVideo = hasVideo;
        _hasAudio = hasAudio;
    }

    public static RtmpFlvWriter Open(RtmpUrl url, FlvMuxer.VideoParameters? video, FlvMuxer.AudioParameters? audio, int maxPendingBytes, long timeoutMs)
    {
        var c = new RtmpConnection(url, maxPendingBytes, timeoutMs);
        var s = c.Session;
        // Held by the session until the server accepts the publish.
        s.WriteMetadata(video?.Width ?? 0, video?.Height ?? 0, video != null, audio?.SampleRate ?? 0, audio?.Channels ?? 0);
        if (video is { } v)
            s.WriteVideo(0, keyframe: true, sequenceHeader: true, v.AvcC);
        if (audio is { } a)
            s.WriteAudio(0, sequenceHeader: true, a.AudioSpecificConfig);
        c.Start();
        return new RtmpFlvWriter(c, video != null, audio != null);
    }

    public bool IsLive
    {
        get { lock (_connection) return _connection.Session.IsLive; }
    }

    public bool WriteVideo(ReadOnlySpan<byte> avcc, long millis, bool key, ReadOnlySpan<byte> newAvcC)
    {
        if (!_hasVideo)
            return true;
        lock (_connection)
        {
            var s = Usable();
            if (!newAvcC.IsEmpty && !s.WriteVideo((uint)millis, keyframe: true, sequenceHeader: true, newAvcC))
                return false;
            return s.WriteVideo((uint)millis, key, sequenceHeader: false, avcc);
        }
    }

    public bool WriteAudio(ReadOnlySpan<byte> aac, long millis)
    {
        if (!_hasAudio)
            return true;
        lock (_connection)
            return Usable().WriteAudio((uint)millis, sequenceHeader: false, aac);
    }

    // Under the connection's lock: the session, or the failure that ended it.
    private RtmpPublishSession Usable()
    {
        var s = _connection.Session;
        return s.HasFailed ? throw new IOException(s.Error) : s;
    }

    /// <summary>Ends the publish and waits (bounded) until it is sent.</summary>
    public void Close()
    {
        lock (_connection)
            _connection.Session.Finish();
        RtmpPump.Shared.Wake();
        if (!_connection.WaitDone(TimeSpan.FromSeconds(5)))
            _connection.Abort();
    }

    public void Dispose() => _connection.Abort();
}
