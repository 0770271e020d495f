using System.Text.Json;
using Engine.Ice.Turn;

namespace Engine.Host.Turn;

/// <summary>A snapshot of the TURN server's counters, for <c>/api/turn</c> and <c>/metrics</c> (<see cref="Engine.Host.Metrics.TurnMetrics"/>).</summary>
public sealed class TurnStats
{
    private static readonly TurnDropReason[] CoreReasons = Enum.GetValues<TurnDropReason>();
    private static readonly TurnHostDrop[] HostReasons = Enum.GetValues<TurnHostDrop>();

    public long Allocations { get; set; }
    public long AllocationsCreated { get; set; }
    public long Permissions { get; set; }
    public long Channels { get; set; }
    public long Connections { get; set; }
    public long PacketsToPeer { get; set; }
    public long BytesToPeer { get; set; }
    public long PacketsToClient { get; set; }
    public long BytesToClient { get; set; }
    public long ErrorResponses { get; set; }
    // RFC 6062 TCP allocations.
    public long TcpConnections { get; set; }
    public long TcpConnectsSucceeded { get; set; }
    public long TcpConnectsFailed { get; set; }
    public long TcpConnectionAttempts { get; set; }
    public long TcpBinds { get; set; }
    public long TcpBindTimeouts { get; set; }
    public long TcpBytesToPeer { get; set; }
    public long TcpBytesToClient { get; set; }
    public long[] CoreDrops { get; } = new long[CoreReasons.Length];
    public long[] HostDrops { get; } = new long[HostReasons.Length];

    /// <summary>On the TURN thread, into a preallocated snapshot: allocates nothing.</summary>
    internal void CopyFrom(TurnCounters c)
    {
        Allocations = c.Allocations;
        AllocationsCreated = c.AllocationsCreated;
        Permissions = c.Permissions;
        Channels = c.Channels;
        PacketsToPeer = c.PacketsToPeer;
        BytesToPeer = c.BytesToPeer;
        PacketsToClient = c.PacketsToClient;
        BytesToClient = c.BytesToClient;
        ErrorResponses = c.ErrorResponses;
        TcpConnections = c.TcpConnections;
        TcpConnectsSucceeded = c.TcpConnectsSucceeded;
        TcpConnectsFailed = c.TcpConnectsFailed;
        TcpConnectionAttempts = c.TcpConnectionAttempts;
        TcpBinds = c.TcpBinds;
        TcpBindTimeouts = c.TcpBindTimeouts;
        for (int i = 0; i < CoreReasons.Length; i++)
            CoreDrops[i] = c[CoreReasons[i]];
    }

    internal void CopyFrom(TurnStats s)
    {
        Allocations = s.Allocations;
        AllocationsCreated = s.AllocationsCreated;
        Permissions = s.Permissions;
        Channels = s.Channels;
        PacketsToPeer = s.PacketsToPeer;
        BytesToPeer = s.BytesToPeer;
        PacketsToClient = s.PacketsToClient;
        BytesToClient = s.BytesToClient;
        ErrorResponses = s.ErrorResponses;
        TcpConnections = s.TcpConnections;
        TcpConnectsSucceeded = s.TcpConnectsSucceeded;
        TcpConnectsFailed = s.TcpConnectsFailed;
        TcpConnectionAttempts = s.TcpConnectionAttempts;
        TcpBinds = s.TcpBinds;
        TcpBindTimeouts = s.TcpBindTimeouts;
        s.CoreDrops.CopyTo(CoreDrops, 0);
    }

    public void WriteJson(Utf8JsonWriter w, IReadOnlyList<string> listening)
    {
        w.WriteStartObject();
        w.WriteStartArray("listening");
        foreach (var l in listening)
            w.WriteStringValue(l);
        w.WriteEndArray();
        w.WriteNumber("allocations", Allocations);
        w.WriteNumber("allocationsCreated", AllocationsCreated);
        w.WriteNumber("permissions", Permissions);
        w.WriteNumber("channels", Channels);
        w.WriteNumber("connections", Connections);
        w.WriteStartObject("toPeer");
        w.WriteNumber("packets", PacketsToPeer);
        w.WriteNumber("bytes", BytesToPeer);
        w.WriteEndObject();
        w.WriteStartObject("toClient");
        w.WriteNumber("packets", PacketsToClient);
        w.WriteNumber("bytes", BytesToClient);
        w.WriteEndObject();
        w.WriteNumber("errorResponses", ErrorResponses);
        w.WriteStartObject("tcp");
        w.WriteNumber("connections", TcpConnections);
        w.WriteNumber("connectsSucceeded", TcpConnectsSucceeded);
        w.WriteNumber("connectsFailed", TcpConnectsFailed);
        w.WriteNumber("connectionAttempts", TcpConnectionAttempts);
        w.WriteNumber("binds", TcpBinds);
        w.WriteNumber("bindTimeouts", TcpBindTimeouts);
        w.WriteNumber("bytesToPeer", TcpBytesToPeer);
        w.WriteNumber("bytesToClient", TcpBytesToClient);
        w.WriteEndObject();
        w.WriteStartObject("drops");
        for (int i = 0; i < CoreReasons.Length; i++)
            w.WriteNumber(JsonName(CoreReasons[i].ToString()), CoreDrops[i]);
        for (int i = 0; i < HostReasons.Length; i++)
            w.WriteNumber(JsonName(HostReasons[i].ToString()), HostDrops[i]);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static string JsonName(string pascal) => char.ToLowerInvariant(pascal[0]) + pascal[1..];
}
