using System.Text;
using System.Text.Json;
using Engine.Host.Signaling;

namespace Engine.Host.Tests.Signaling;

public class LegacyProtocolTests
{
    private static bool Parse(string json, out LegacyRequest? r, out string error, out string id) =>
        LegacyRequest.TryParse(Encoding.UTF8.GetBytes(json), out r, out error, out id);

    [Fact]
    public void ACallRequestIsRead()
    {
        Assert.True(Parse("""{"id": 17, "route": "imRTC/sendSdpCall", "req_data": {"stream": "cam1", "sdp": "v=0\r\n", "record": true}}""", out var r, out _, out _));
        Assert.Equal("17", r!.IdJson);
        Assert.Equal(LegacyRoutes.SendSdpCall, r.Route);
        Assert.Equal("cam1", r.GetString("stream"));
        Assert.Equal("v=0\r\n", r.GetString("sdp"));
        Assert.True(r.GetBool("record"));
        Assert.False(r.GetBool("ignoreMedia"));
        Assert.Null(r.GetString("missing"));
    }

    [Theory]
    [InlineData("\"abc\"")]
    [InlineData("{\"k\":[1,2]}")]
    [InlineData("12.5")]
    [InlineData("null")]
    public void TheIdIsEchoedWhateverItsType(string id)
    {
        Assert.True(Parse($$"""{"id": {{id}}, "route": "imRTC/sendPing"}""", out var r, out _, out _));
        var reply = LegacyReply.Reply(r!.IdJson, r.Route, LegacyErrno.Ok, "");
        using var doc = JsonDocument.Parse(reply);
        Assert.Equal(JsonDocument.Parse(id).RootElement.GetRawText(), doc.RootElement.GetProperty("id").GetRawText());
        Assert.Equal("imRTC/sendPing", doc.RootElement.GetProperty("route").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("errno").GetInt32());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("data").ValueKind);
    }

    [Theory]
    [InlineData("not json", "malformed JSON")]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("{\"id\":1}", "route")]
    [InlineData("{\"id\":1,\"route\":5}", "route")]
    [InlineData("{\"id\":1,\"route\":\"x\",\"req_data\":[]}", "req_data")]
    public void BadRequestsFailWithAReasonAndKeepTheId(string json, string reason)
    {
        Assert.False(Parse(json, out _, out var error, out var id));
        Assert.Contains(reason, error);
        if (json.StartsWith("{\"id\":1"))
            Assert.Equal("1", id);
    }

    [Fact]
    public void DeepNestingAndHugeMessagesAreRefused()
    {
        var deep = "{\"id\":1,\"route\":\"r\",\"req_data\":" + new string('[', 100) + new string(']', 100) + "}";
        Assert.False(Parse(deep, out _, out _, out _));
        Assert.False(LegacyRequest.TryParse(new byte[LegacyRequest.MaxBytes + 1], out _, out var error, out _));
        Assert.Contains("larger", error);
    }

    [Fact]
    public void ARepliedDataObjectAndANoticeHaveTheLegacyShape()
    {
        var reply = LegacyReply.Reply("3", LegacyRoutes.SendSdpCall, LegacyErrno.Ok, "", w =>
        {
            w.WriteStartObject(); w.WriteString("rtmpUrl", "rtmp://h/live/s"); w.WriteEndObject();
        });
        using (var doc = JsonDocument.Parse(reply))
            Assert.Equal("rtmp://h/live/s", doc.RootElement.GetProperty("data").GetProperty("rtmpUrl").GetString());

        var notice = LegacyReply.Notice(LegacyRoutes.SdpAnswerNotice, w =>
        {
            w.WriteStartObject(); w.WriteString("sdp", "v=0"); w.WriteEndObject();
        });
        using (var doc = JsonDocument.Parse(notice))
        {
            Assert.Equal(LegacyRoutes.SdpAnswerNotice, doc.RootElement.GetProperty("route").GetString());
            Assert.Equal("v=0", doc.RootElement.GetProperty("req_data").GetProperty("sdp").GetString());
        }
    }

    [Fact]
    public void TheErrnoValuesClientsTestForAreFixed()
    {
        Assert.Equal(6, (int)LegacyErrno.NoFreeSession);
        Assert.Equal(7, (int)LegacyErrno.NoCall);
        Assert.Equal(15, (int)LegacyErrno.HookQueueFull);
        Assert.Equal(16, (int)LegacyErrno.SyncPending);
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var rng = new Random(11);
        var seed = Encoding.UTF8.GetBytes("""{"id":1,"route":"imRTC/sendSdpCall","req_data":{"stream":"a","sdp":"v=0"}}""");
        for (int i = 0; i < 5000; i++)
        {
            var b = (byte[])seed.Clone();
            for (int k = rng.Next(1, 6); k > 0; k--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
            var len = rng.Next(b.Length + 1);
            if (LegacyRequest.TryParse(b.AsSpan(0, len), out var r, out _, out _))
            {
                _ = r!.GetString("stream");
                _ = r.GetBool("record");
            }
        }
    }
}
