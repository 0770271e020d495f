using System.Globalization;
using System.Text.Json;

namespace Engine.Host;

/// <summary>
/// <c>[BASE] STATETIME</c>'s statistics line, from the /api/streams document (which the media
/// thread publishes as snapshots: nothing here reads live session state). Rates are over the
/// interval since the previous line, per session id, so a session that came or went does not
/// make them jump. One instance per reporter; not thread-safe.
/// </summary>
public sealed class StatsLine
{
    private Dictionary<string, long> _in = new(StringComparer.Ordinal), _out = new(StringComparer.Ordinal);
    private long _portDrops = -1, _logDrops = -1;

    /// <param name="streams">The /api/streams document.</param>
    /// <param name="seconds">Time since the previous line (or since start).</param>
    /// <param name="logDropped">Log lines dropped so far (<see cref="Logging.Log.Dropped"/>).</param>
    public string Next(JsonElement streams, double seconds, long logDropped)
    {
        int sessions = 0, media = 0, players = 0, pulls = 0, outputs = 0, outputsLive = 0;
        long outputDrops = 0, framesDropped = 0, packetsLost = 0, inBytes = 0, outBytes = 0;
        var nextIn = new Dictionary<string, long>(StringComparer.Ordinal);
        var nextOut = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var s in Array(streams, "streams"))
        {
            sessions++;
            if (Text(s, "state") == "media")
                media++;
            long bytes = 0;
            foreach (var t in Array(s, "tracks"))
            {
                bytes += Number(t, "bytes");
                framesDropped += Number(t, "framesDropped");
                packetsLost += Math.Max(0, Number(t, "packetsLost"));
            }
            foreach (var o in Array(s, "outputs"))
            {
                outputs++;
                if (Text(o, "state") == "live")
                    outputsLive++;
                outputDrops += Number(o, "framesDropped");
            }
            string id = Text(s, "id") ?? "";
            nextIn[id] = bytes;
            inBytes += Math.Max(0, bytes - _in.GetValueOrDefault(id));
        }
        foreach (var p in Array(streams, "playback"))
        {
            players++;
            long bytes = 0;
            foreach (var t in Array(p, "tracks"))
                bytes += Number(t, "bytesSent");
            string id = Text(p, "id") ?? "";
            nextOut[id] = bytes;
            outBytes += Math.Max(0, bytes - _out.GetValueOrDefault(id));
        }
        foreach (var _ in Array(streams, "pulls"))
            pulls++;
        long portDrops = 0;
        if (streams.TryGetProperty("mediaPort", out var port) && port.ValueKind == JsonValueKind.Object)
            portDrops = Number(port, "droppedUnknownUfrag") + Number(port, "droppedUnknownAddress") + Number(port, "droppedUnknownKind");
        long portDelta = _portDrops < 0 ? portDrops : Math.Max(0, portDrops - _portDrops);
        long logDelta = _logDrops < 0 ? logDropped : Math.Max(0, logDropped - _logDrops);
        _in = nextIn;
        _out = nextOut;
        _portDrops = portDrops;
        _logDrops = logDropped;
        double span = Math.Max(seconds, 0.001);
        return string.Create(CultureInfo.InvariantCulture,
            $"stats: sessions {sessions} ({media} with media), players {players}, pulls {pulls}, outputs {outputs} ({outputsLive} live), "
            + $"in {Mbps(inBytes, span)} Mb/s, out {Mbps(outBytes, span)} Mb/s over {seconds:F0} s; "
            + $"now: packets lost {packetsLost}, frames dropped {framesDropped}, output frames dropped {outputDrops}; "
            + $"since the last line: media port drops {portDelta}, log lines dropped {logDelta}");
    }

    private static string Mbps(long bytes, double seconds) => (bytes * 8 / seconds / 1e6).ToString("F2", CultureInfo.InvariantCulture);

    private static IEnumerable<JsonElement> Array(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray() : [];

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) ? n : 0;
}
