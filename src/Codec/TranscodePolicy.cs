namespace Engine.Codec;

/// <summary>When an H.264 publisher is transcoded.</summary>
public enum TranscodePolicy
{
    /// <summary>The legacy rule: relay Constrained Baseline as is, transcode every other profile.</summary>
    Auto,
    /// <summary>Relay any H.264 profile as is.</summary>
    Passthrough,
    /// <summary>Always decode and re-encode.</summary>
    Always,
}
