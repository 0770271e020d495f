namespace Engine.Codec.Rtmp;

internal enum RtmpPlayEventKind
{
    /// <summary>An FLV AUDIODATA body (the tag's payload, from its sound format byte on).</summary>
    Audio,
    /// <summary>An FLV VIDEODATA body (from its frame type / codec byte on).</summary>
    Video,
    /// <summary>onMetaData: <see cref="RtmpPlayEvent.Metadata"/>, and the AMF0 body as the payload.</summary>
    Metadata,
    /// <summary>NetStream.Play.Reset: the server restarts the stream (before Play.Start).</summary>
    PlayReset,
    /// <summary>NetStream.Play.Start: media follows.</summary>
    PlayStart,
    /// <summary>NetStream.Play.PublishNotify: a publisher (re)started the stream.</summary>
    PublishNotify,
    /// <summary>NetStream.Play.UnpublishNotify: the publisher stopped; the connection stays.</summary>
    UnpublishNotify,
    /// <summary>NetStream.Play.Stop or Play.Complete, or the user control StreamEOF.</summary>
    PlayStop,
    /// <summary>NetStream.Play.StreamNotFound: the session fails right after this event.</summary>
    StreamNotFound,
}

/// <summary>
/// What a <see cref="RtmpPlaySession"/> hands its owner during <see cref="RtmpPlaySession.Receive"/>:
/// a view into the session's buffers, valid for the call only (copy what you keep).
/// </summary>
internal readonly ref struct RtmpPlayEvent
{
    public RtmpPlayEvent(RtmpPlayEventKind kind, uint millis, ReadOnlySpan<byte> payload, in RtmpPlayMetadata metadata = default)
    {
        Kind = kind;
        Millis = millis;
        Payload = payload;
        Metadata = metadata;
    }

    public RtmpPlayEventKind Kind { get; }
    /// <summary>The message's RTMP timestamp (milliseconds, 32 bits, wraps): the FLV tag's DTS.</summary>
    public uint Millis { get; }
    public ReadOnlySpan<byte> Payload { get; }
    public RtmpPlayMetadata Metadata { get; }
}
