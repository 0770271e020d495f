namespace Engine.Rtp.Video;

/// <summary>What a frame that cannot be delivered takes with it.</summary>
internal enum FrameLossImpact
{
    /// <summary>Unknown or a reference frame of the base chain: only a keyframe repairs the stream.</summary>
    BreaksChain,
    /// <summary>A non-reference frame (H.264 nal_ref_idc 0, VP8 N=1), or one whose dependents the codec will recognise itself.</summary>
    NoDependents,
    /// <summary>A frame of a temporal layer above the base: the codec drops that layer until it resyncs.</summary>
    BreaksLayer,
}
