using System.Text;
using System.Text.Json;
using Engine.Host.Media;
using Engine.Rtp.Media;
using Xunit;

namespace Engine.Host.Tests.Media;

/// <summary>/api/streams' "outputs", written by the host from the sinks' snapshots.</summary>
public sealed class SinkStatusJsonTests
{
    private sealed class TwoOutputs : IEncodedFrameSink, ISinkStatus
    {
        public void OnFrame(int trackIndex, in EncodedFrame frame) { }

        public void OnEnd() { }

        public void CollectStatus(List<SinkOutputStatus> outputs)
        {
            outputs.Add(new SinkOutputStatus("rtmp://h/live/a", "live", "remux H264", "shared worker", 10, 20, 3, 1, 2, 5, null));
            outputs.Add(new SinkOutputStatus("rec.flv", "failed: x", "pending", "own thread", 0, 0, 7, 0, 0, 0, "x"));
        }
    }

    private static JsonElement Write(ISinkStatus sink)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
            SinkStatusJson.Write(w, sink);
        return JsonDocument.Parse(Encoding.UTF8.GetString(stream.ToArray())).RootElement;
    }

    [Fact]
    public void EachOutput_KeepsTheFieldNamesTheApiHasAlwaysHad()
    {
        var a = Write(new TwoOutputs());
        Assert.Equal(2, a.GetArrayLength());
        Assert.Equal(["url", "state", "mode", "writer", "videoFrames", "audioFrames", "framesDropped", "gopsDropped", "reconnects", "queued", "lastError"],
            a[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(("rtmp://h/live/a", "live", "remux H264", "shared worker"),
            (a[0].GetProperty("url").GetString(), a[0].GetProperty("state").GetString(), a[0].GetProperty("mode").GetString(), a[0].GetProperty("writer").GetString()));
        Assert.Equal([10L, 20, 3, 1, 2, 5], new[] { "videoFrames", "audioFrames", "framesDropped", "gopsDropped", "reconnects", "queued" }.Select(n => a[0].GetProperty(n).GetInt64()));
        Assert.Equal(JsonValueKind.Null, a[0].GetProperty("lastError").ValueKind);
        Assert.Equal("x", a[1].GetProperty("lastError").GetString());
    }

    [Fact]
    public void Tee_ListsItsSinksOutputs_OthersAddNothing()
    {
        var tee = new TeeFrameSink([new NullFrameSink(), new TwoOutputs()]);
        var a = Write(tee);
        Assert.Equal(["rtmp://h/live/a", "rec.flv"], a.EnumerateArray().Select(o => o.GetProperty("url").GetString()));
    }
}
