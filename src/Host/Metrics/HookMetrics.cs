using Engine.Host.Hooks;

namespace Engine.Host.Metrics;

/// <summary>The legacy HTTP hooks (EXTSETSTATUSPATH, EXTSYNCPATH): calls by kind and result, attempts, the queue and the online users.</summary>
public sealed class HookMetrics(HookCounters counters) : IMetricsSource
{
    private static readonly HookKind[] Kinds = Enum.GetValues<HookKind>();
    private static readonly HookResult[] Results = Enum.GetValues<HookResult>();

    public void Write(MetricsWriter w)
    {
        w.Family("engine_hook_calls_total", "Calls to the back-end's hooks by kind and result (retries count once)", MetricType.Counter);
        foreach (var kind in Kinds)
            foreach (var result in Results)
                w.Sample("engine_hook_calls_total", "kind", HookCounters.Label(kind), "result", HookCounters.Label(result), counters.Calls(kind, result));
        w.Counter("engine_hook_attempts_total", "HTTP requests sent to the hooks, retries included", counters.Attempts);
        w.Gauge("engine_hook_queue_depth", "Hook calls waiting for a worker", counters.QueueDepth);
        w.Gauge("engine_online_users", "Distinct logged-in user ids (imRTC/login)", counters.OnlineUsers);
        w.Gauge("engine_online_sockets", "Logged-in WebSocket connections", counters.OnlineSockets);
    }
}
