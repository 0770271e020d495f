using System.Text.Json;
using Engine.Rtp.Media;

namespace Engine.Host.Media;

/// <summary>A sink's outputs in /api/streams ("outputs": one object per output), from the snapshots the sink gives.</summary>
public static class SinkStatusJson
{
    /// <summary>Writes the array (the caller names the property). Any thread.</summary>
    public static void Write(Utf8JsonWriter w, ISinkStatus sink)
    {
        var outputs = new List<SinkOutputStatus>();
        sink.CollectStatus(outputs);
        w.WriteStartArray();
        foreach (var o in outputs)
            Write(w, o);
        w.WriteEndArray();
    }

    public static void Write(Utf8JsonWriter w, SinkOutputStatus o)
    {
        w.WriteStartObject();
        w.WriteString("url", o.Url);
        w.WriteString("state", o.State);
        w.WriteString("mode", o.Mode);
        w.WriteString("writer", o.Writer);
        w.WriteNumber("videoFrames", o.VideoFrames);
        w.WriteNumber("audioFrames", o.AudioFrames);
        w.WriteNumber("framesDropped", o.FramesDropped);
        w.WriteNumber("gopsDropped", o.GopsDropped);
        w.WriteNumber("reconnects", o.Reconnects);
        w.WriteNumber("queued", o.Queued);
        if (o.LastError is { } e) w.WriteString("lastError", e); else w.WriteNull("lastError");
        w.WriteEndObject();
    }
}
