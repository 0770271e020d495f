namespace Engine.Host.Hooks;

/// <summary>The hooks' fixed tunables; tests shorten them. The URLs and worker count come from <c>[EXT]</c>.</summary>
public sealed class HookOptions
{
    /// <summary>One attempt's limit; the legacy gateway's clients wait about this long for a login.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Attempts per call, the first included. A rejection (a reply without ret 1) is not retried.</summary>
    public int Attempts { get; init; } = 3;
    /// <summary>The wait before the first retry; it doubles for each next one, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(4);
    /// <summary>Calls waiting for a worker beyond this are refused (errno 15).</summary>
    public int QueueCapacity { get; init; } = 1024;
    /// <summary>The online-list sync runs at most this often (the legacy 30 s).</summary>
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Sends the requests; null = a pooled <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? Handler { get; init; }
    /// <summary>Clock of the back-off and sync waits (the per-attempt timeout uses the real clock).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
