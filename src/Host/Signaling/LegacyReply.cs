using System.Buffers;
using System.Text.Json;

namespace Engine.Host.Signaling;

/// <summary>Writes the legacy envelope: replies <c>{"id","route","errno","errmsg","data"}</c> and server notices.</summary>
public static class LegacyReply
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };

    /// <summary>A reply to a request; <paramref name="writeData"/> writes the <c>data</c> value (null when absent).</summary>
    public static byte[] Reply(string idJson, string route, LegacyErrno errno, string errmsg, Action<Utf8JsonWriter>? writeData = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WritePropertyName("id");
            w.WriteRawValue(idJson, skipInputValidation: false);
            w.WriteString("route", route);
            w.WriteNumber("errno", (int)errno);
            w.WriteString("errmsg", errmsg);
            w.WritePropertyName("data");
            if (writeData == null) w.WriteNullValue(); else writeData(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A server-to-client notice: the payload goes in <c>req_data</c>, as the legacy gateway sent it.</summary>
    public static byte[] Notice(string route, Action<Utf8JsonWriter>? writeReqData = null, LegacyErrno errno = LegacyErrno.Ok, string errmsg = "")
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteNull("id");
            w.WriteString("route", route);
            w.WriteNumber("errno", (int)errno);
            w.WriteString("errmsg", errmsg);
            w.WritePropertyName("req_data");
            if (writeReqData == null) { w.WriteStartObject(); w.WriteEndObject(); } else writeReqData(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
