using System.Text.Json;

namespace Engine.Rtp.Media;

/// <summary>Optionally implemented by a sink with state worth showing in /api/streams (its outputs).</summary>
public interface ISinkStatus
{
    /// <summary>Writes one JSON value (the caller names the property). Called from an HTTP thread.</summary>
    void WriteStatus(Utf8JsonWriter writer);
}
