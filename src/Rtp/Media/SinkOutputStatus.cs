namespace Engine.Rtp.Media;

/// <summary>
/// What one output of a sink looks like at one moment (an immutable value, safe to hand to any
/// thread). The counters are read one by one, so they may be a frame apart.
/// </summary>
/// <param name="Url">Where it goes, without credentials.</param>
/// <param name="State">"connecting", "live", "retrying in ...", "closed", "failed: ...".</param>
/// <param name="Mode">"remux H264", "transcode ... to H264 baseline", "audio only", "pending".</param>
/// <param name="Writer">What runs its writer: "none", "shared worker" or "own thread".</param>
/// <param name="Queued">Frames waiting in its queue.</param>
public sealed record SinkOutputStatus(
    string Url,
    string State,
    string Mode,
    string Writer,
    long VideoFrames,
    long AudioFrames,
    long FramesDropped,
    long GopsDropped,
    long Reconnects,
    int Queued,
    string? LastError);
