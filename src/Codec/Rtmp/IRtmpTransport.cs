namespace Engine.Codec.Rtmp;

/// <summary>
/// What moves an <see cref="RtmpLink"/>'s bytes: the host's socket, DNS and thread (Codec owns
/// none). Both calls return at once; the transport then calls the link's transport-side members
/// from its own thread.
/// </summary>
public interface IRtmpTransport
{
    /// <summary>Starts driving the link: resolve, connect, then receive and send its pending bytes.</summary>
    void Start(RtmpLink link);

    /// <summary>A link changed (finished, aborted): step the links soon instead of at the next batch.</summary>
    void Wake();
}
