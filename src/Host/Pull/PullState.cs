namespace Engine.Host.Pull;

/// <summary>Where an RTMP pull is: <see cref="Ready"/> once its codecs are known (players can be answered).</summary>
internal enum PullState
{
    Connecting,
    Ready,
    Ended,
    Failed,
}
