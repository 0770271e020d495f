namespace Engine.Codec.Rtmp;

/// <summary>
/// What an RTMP client reads from the server, shared by the publish and play sessions: the bytes
/// buffered, the handshake, then the chunk stream (<see cref="RtmpChunkReader"/>, with its limits).
/// Sans-IO, never throws on server input.
/// </summary>
internal sealed class RtmpClientInput(int maxChunkStreams, int maxMessage, int maxChunkSize, int maxBufferedBytes)
{
    // A full buffer always holds a whole chunk: header, extended time and the largest chunk.
    private readonly ByteBuffer _in = new(8192, maxChunkSize + 32);
    private readonly RtmpClientHandshake _handshake = new();

    public RtmpChunkReader Reader { get; } = new(maxChunkStreams, maxMessage, maxChunkSize, maxBufferedBytes);

    /// <summary>Buffers what fits of <paramref name="data"/>: the bytes taken, 0 only when the buffer is full.</summary>
    public int Append(ReadOnlySpan<byte> data)
    {
        int room = Math.Min(data.Length, _in.MaxCapacity - _in.Length);
        _in.Append(data[..room]);
        return room;
    }

    /// <summary>The next event in the buffered bytes; C2 goes to <paramref name="output"/>.</summary>
    public RtmpInputEvent Next(ByteBuffer output, out RtmpMessage message, out string? error)
    {
        message = default;
        error = null;
        while (!_handshake.IsDone)
        {
            bool hadS1 = _handshake.HasS1;
            int n = _handshake.Read(_in.Span, output, out error);
            if (n < 0)
                return RtmpInputEvent.Failed;
            if (n == 0)
                return RtmpInputEvent.NeedMore;
            _in.Consume(n);
            if (!hadS1)
                return RtmpInputEvent.HandshakeReply;
        }
        while (true)
        {
            var result = Reader.Read(_in.Span, out int consumed, out message);
            _in.Consume(consumed);
            switch (result)
            {
                case RtmpChunkResult.Message:
                    return RtmpInputEvent.Message;
                case RtmpChunkResult.NeedMore:
                    return RtmpInputEvent.NeedMore;
                case RtmpChunkResult.Failed:
                    error = Reader.Error;
                    return RtmpInputEvent.Failed;
            }
        }
    }
}
