namespace Engine.Codec.Rtmp;

/// <summary>What <see cref="RtmpClientInput.Next"/> found in the server's bytes.</summary>
internal enum RtmpInputEvent
{
    /// <summary>Everything buffered is read: wait for more bytes.</summary>
    NeedMore,
    /// <summary>S0 S1 read and C2 written: the client sends its connect.</summary>
    HandshakeReply,
    /// <summary>A whole message.</summary>
    Message,
    /// <summary>Bad input; the error says why.</summary>
    Failed,
}
