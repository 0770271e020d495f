namespace Engine.Codec;

/// <summary>What one FLV tag body was, to <see cref="FlvTagDemuxer"/>.</summary>
internal enum FlvDemuxResult
{
    /// <summary>A coded frame: the out value holds it.</summary>
    Frame,
    /// <summary>The first sequence header (avcC / AudioSpecificConfig) of the stream.</summary>
    Config,
    /// <summary>A sequence header that differs from the one before: the codec or its parameters changed mid-stream.</summary>
    ConfigChanged,
    /// <summary>The same sequence header again (servers resend it to late joiners): nothing changed.</summary>
    ConfigRepeated,
    /// <summary>AVC end of sequence (AVCPacketType 2).</summary>
    EndOfSequence,
    /// <summary>A frame before any sequence header: dropped, counted.</summary>
    NoConfig,
    /// <summary>Another codec (not AVC or AAC), an enhanced-RTMP header or a video command frame: dropped, counted.</summary>
    Unsupported,
    /// <summary>Truncated or inconsistent: dropped, counted.</summary>
    Malformed,
}
