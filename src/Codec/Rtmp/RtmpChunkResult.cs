namespace Engine.Codec.Rtmp;

/// <summary>What one <see cref="RtmpChunkReader.Read"/> call found.</summary>
internal enum RtmpChunkResult
{
    /// <summary>No whole chunk yet: nothing consumed, call again with more bytes.</summary>
    NeedMore,
    /// <summary>A chunk consumed that does not finish its message.</summary>
    Chunk,
    /// <summary>A chunk consumed that finishes a message.</summary>
    Message,
    /// <summary>Bad input; <see cref="RtmpChunkReader.Error"/> says why and the reader reads no more.</summary>
    Failed,
}
