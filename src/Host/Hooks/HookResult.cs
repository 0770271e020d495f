namespace Engine.Host.Hooks;

/// <summary>How one hook call ended, after its retries.</summary>
public enum HookResult
{
    /// <summary>The reply's JSON had <c>"ret": 1</c>.</summary>
    Ok = 0,
    /// <summary>A 2xx JSON reply without <c>"ret": 1</c>: the back-end said no.</summary>
    Rejected = 1,
    /// <summary>No usable reply: connection refused, a non-2xx status or a body that is not JSON.</summary>
    Failed = 2,
    /// <summary>The last attempt got no reply within the timeout.</summary>
    Timeout = 3,
    /// <summary>Never sent: the queue was full.</summary>
    QueueFull = 4,
}
