using Engine.Host.Turn;
using Engine.Ice.Turn;

namespace Engine.Host.Metrics;

/// <summary>The TURN server's counters (when [TURN] runs), from its snapshot.</summary>
public sealed class TurnMetrics(TurnHost turn) : IMetricsSource
{
    private static readonly string[] CoreReasons = Enum.GetValues<TurnDropReason>().Select(r => PublishMetrics.SnakeCase(r.ToString())).ToArray();
    private static readonly string[] HostReasons = Enum.GetValues<TurnHostDrop>().Select(r => PublishMetrics.SnakeCase(r.ToString())).ToArray();

    public void Write(MetricsWriter w)
    {
        var s = turn.Snapshot();
        w.Gauge("engine_turn_allocations", "TURN allocations held", s.Allocations);
        w.Counter("engine_turn_allocations_created_total", "TURN allocations made", s.AllocationsCreated);
        w.Gauge("engine_turn_permissions", "TURN permissions held", s.Permissions);
        w.Gauge("engine_turn_channels", "TURN channels bound", s.Channels);
        w.Gauge("engine_turn_connections", "TURN TCP and TLS client connections", s.Connections);
        w.Family("engine_turn_relayed_packets_total", "Packets relayed by TURN", MetricType.Counter);
        w.Sample("engine_turn_relayed_packets_total", "direction", "to_peer", s.PacketsToPeer);
        w.Sample("engine_turn_relayed_packets_total", "direction", "to_client", s.PacketsToClient);
        w.Family("engine_turn_relayed_bytes_total", "Payload bytes relayed by TURN", MetricType.Counter);
        w.Sample("engine_turn_relayed_bytes_total", "direction", "to_peer", s.BytesToPeer);
        w.Sample("engine_turn_relayed_bytes_total", "direction", "to_client", s.BytesToClient);
        w.Counter("engine_turn_error_responses_total", "TURN error responses sent", s.ErrorResponses);
        w.Gauge("engine_turn_tcp_connections", "TURN TCP allocation peer connections (RFC 6062): connecting, awaiting ConnectionBind or spliced", s.TcpConnections);
        w.Family("engine_turn_tcp_connects_total", "TURN Connect requests answered, by result", MetricType.Counter);
        w.Sample("engine_turn_tcp_connects_total", "result", "ok", s.TcpConnectsSucceeded);
        w.Sample("engine_turn_tcp_connects_total", "result", "failed", s.TcpConnectsFailed);
        w.Counter("engine_turn_tcp_connection_attempts_total", "Peers that connected to a TURN TCP relayed address with a permission", s.TcpConnectionAttempts);
        w.Counter("engine_turn_tcp_binds_total", "TURN ConnectionBind successes (data connections spliced)", s.TcpBinds);
        w.Counter("engine_turn_tcp_bind_timeouts_total", "TURN peer connections closed without a ConnectionBind in 30 s", s.TcpBindTimeouts);
        w.Family("engine_turn_tcp_relayed_bytes_total", "Bytes spliced between TURN data connections and TCP peers", MetricType.Counter);
        w.Sample("engine_turn_tcp_relayed_bytes_total", "direction", "to_peer", s.TcpBytesToPeer);
        w.Sample("engine_turn_tcp_relayed_bytes_total", "direction", "to_client", s.TcpBytesToClient);
        w.Family("engine_turn_drops_total", "Input dropped by the TURN server, by reason", MetricType.Counter);
        for (int i = 0; i < CoreReasons.Length; i++)
            w.Sample("engine_turn_drops_total", "reason", CoreReasons[i], s.CoreDrops[i]);
        for (int i = 0; i < HostReasons.Length; i++)
            w.Sample("engine_turn_drops_total", "reason", HostReasons[i], s.HostDrops[i]);
        w.Counter("engine_turn_thread_allocated_bytes_total", "Bytes the TURN thread has allocated", turn.AllocatedBytes);
    }
}
