namespace Engine.Codec.Rtmp;

/// <summary>
/// FLV tags to an RTMP server through our own client (<see cref="RtmpPublishSession"/> in an
/// <see cref="RtmpLink"/> that the host's <see cref="IRtmpTransport"/> drives): a write appends
/// to the connection's buffer and returns, from any thread. False when the buffer is full (the
/// caller drops); an <see cref="IOException"/> once the connection has failed.
/// </summary>
internal sealed class RtmpFlvWriter : IFlvWriter
{
    private readonly RtmpLink _link;
    private readonly IRtmpTransport _transport;
    private readonly bool _hasVideo, _hasAudio;

    private RtmpFlvWriter(RtmpLink link, IRtmpTransport transport, bool hasVideo, bool hasAudio)
    {
        _link = link;
        _transport = transport;
        _hasVideo = hasVideo;
        _hasAudio = hasAudio;
    }

    /// <summary>Never blocks: the transport connects on its own thread.</summary>
    public static RtmpFlvWriter Open(RtmpUrl url, FlvMuxer.VideoParameters? video, FlvMuxer.AudioParameters? audio, int maxPendingBytes, long timeoutMs, IRtmpTransport transport)
    {
        var link = new RtmpLink(url, maxPendingBytes, timeoutMs);
        var s = link.Session;
        // Held by the session until the server accepts the publish.
        s.WriteMetadata(video?.Width ?? 0, video?.Height ?? 0, video != null, audio?.SampleRate ?? 0, audio?.Channels ?? 0);
        if (video is { } v)
            s.WriteVideo(0, keyframe: true, sequenceHeader: true, v.AvcC);
        if (audio is { } a)
            s.WriteAudio(0, sequenceHeader: true, a.AudioSpecificConfig);
        transport.Start(link);
        return new RtmpFlvWriter(link, transport, video != null, audio != null);
    }

    public bool IsLive => _link.IsLive;

    public bool WriteVideo(ReadOnlySpan<byte> avcc, long millis, bool key, ReadOnlySpan<byte> newAvcC)
    {
        if (!_hasVideo)
            return true;
        lock (_link.Sync)
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
        lock (_link.Sync)
            return Usable().WriteAudio((uint)millis, sequenceHeader: false, aac);
    }

    // Under the link's lock: the session, or the failure that ended it.
    private RtmpPublishSession Usable()
    {
        var s = _link.Session;
        return s.HasFailed ? throw new IOException(s.Error) : s;
    }

    /// <summary>Ends the publish and waits (bounded: 5 s) until the transport has sent it; only the output's own writer thread calls this.</summary>
    public void Close()
    {
        _link.Finish();
        _transport.Wake();
        if (!_link.Done.Wait(TimeSpan.FromSeconds(5)))
            Dispose();
    }

    public void Dispose()
    {
        _link.Abort();
        _transport.Wake();
    }
}
