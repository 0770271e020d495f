namespace Engine.Host.Hooks;

/// <summary>
/// What the hooks did, for /metrics: calls by kind and result, attempts, the queue depth and the
/// online users. Written by the hook workers and the sockets, read by anyone (Interlocked).
/// </summary>
public sealed class HookCounters
{
    public const int Kinds = 3;
    public const int Results = 5;

    private readonly long[] _calls = new long[Kinds * Results];
    private long _attempts;
    private int _queueDepth;
    private int _onlineUsers;
    private int _onlineSockets;

    /// <summary>Calls of <paramref name="kind"/> that ended with <paramref name="result"/> (retries count once).</summary>
    public long Calls(HookKind kind, HookResult result) => Interlocked.Read(ref _calls[(int)kind * Results + (int)result]);

    /// <summary>HTTP requests sent, retries included.</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>Calls waiting in the queue (not yet taken by a worker).</summary>
    public int QueueDepth => Volatile.Read(ref _queueDepth);

    /// <summary>Distinct logged-in user ids.</summary>
    public int OnlineUsers => Volatile.Read(ref _onlineUsers);

    /// <summary>Logged-in sockets (a user may hold several).</summary>
    public int OnlineSockets => Volatile.Read(ref _onlineSockets);

    internal void Count(HookKind kind, HookResult result) => Interlocked.Increment(ref _calls[(int)kind * Results + (int)result]);
    internal void Attempt() => Interlocked.Increment(ref _attempts);
    internal void Queued() => Interlocked.Increment(ref _queueDepth);
    internal void Dequeued() => Interlocked.Decrement(ref _queueDepth);
    internal void SetOnline(int users, int sockets)
    {
        Volatile.Write(ref _onlineUsers, users);
        Volatile.Write(ref _onlineSockets, sockets);
    }

    /// <summary>The Prometheus label value of a kind or result.</summary>
    public static string Label(HookKind kind) => kind switch { HookKind.Status => "status", HookKind.Offline => "offline", _ => "sync" };

    public static string Label(HookResult result) => result switch
    {
        HookResult.Ok => "ok",
        HookResult.Rejected => "rejected",
        HookResult.Failed => "failed",
        HookResult.Timeout => "timeout",
        _ => "queue_full",
    };
}
