namespace Engine.Rtp.Video;

/// <summary>What a codec's own dependency information says about a frame that arrived whole.</summary>
internal enum FrameDependencyVerdict
{
    /// <summary>The codec gave no usable information: fall back to RTP sequence continuity.</summary>
    Unknown,
    /// <summary>Every frame it refers to was delivered.</summary>
    Decodable,
    /// <summary>It refers to a frame that was lost or dropped.</summary>
    MissingReference,
    /// <summary>An H.264 IDR whose SPS/PPS were never delivered.</summary>
    MissingParameterSets,
}
