using System.Text;
using System.Text.Json;
using Engine.Host.Http;
using Engine.Host.Playback;
using Engine.Host.Sessions;

namespace Engine.Host.Tests.Playback;

/// <summary>/api/streams lists each publisher's players under it, with their tracks' totals.</summary>
public class StreamsApiPlayersTests
{
    private sealed class CannedStreams(string json) : IPublishService
    {
        public PublishOutcome Publish(PublishRequest request) => PublishOutcome.Fail(PublishError.Internal, "canned");
        public PublishOutcome Update(string sessionId, string sdp) => PublishOutcome.Fail(PublishError.Internal, "canned");
        public bool End(string sessionId, string reason) => false;
        public void WriteStreams(Utf8JsonWriter writer)
        {
            using var doc = JsonDocument.Parse(json);
            doc.RootElement.WriteTo(writer);
        }
    }

    private static JsonElement Write(string json)
    {
        var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
            HttpFrontend.WriteStreamsWithPlayers(new CannedStreams(json), w);
        return JsonDocument.Parse(Encoding.UTF8.GetString(ms.ToArray())).RootElement.Clone();
    }

    [Fact]
    public void PlayersAreListedUnderTheirStreamWithTotals()
    {
        var doc = Write("""
            {"sessions":2,"streams":[{"id":"a","stream":"cam","state":"media","tracks":[]},{"id":"b","stream":"other","state":"media","tracks":[]}],
             "players":2,"playback":[
               {"id":"p1","stream":"cam","signaling":"whep","role":"player","state":"media","remote":"1.2.3.4:5","tracks":[
                 {"kind":"video","packetsSent":100,"bytesSent":90000,"nacksReceived":4,"retransmissions":7,"plisReceived":1},
                 {"kind":"audio","packetsSent":50,"bytesSent":4000,"nacksReceived":0,"retransmissions":0,"plisReceived":0}]},
               {"id":"p2","stream":"cam","signaling":"ws","role":"player","state":"ice","remote":null,"tracks":[]}]}
            """);
        Assert.Equal(2, doc.GetProperty("sessions").GetInt32());
        Assert.Equal(2, doc.GetProperty("playback").GetArrayLength()); // the details stay
        var cam = doc.GetProperty("streams")[0];
        Assert.Equal("media", cam.GetProperty("state").GetString());
        var players = cam.GetProperty("players").EnumerateArray().ToList();
        Assert.Equal(["p1", "p2"], players.Select(p => p.GetProperty("id").GetString()));
        var p1 = players[0];
        Assert.Equal("whep", p1.GetProperty("signaling").GetString());
        Assert.Equal("media", p1.GetProperty("state").GetString());
        Assert.Equal(150, p1.GetProperty("packetsSent").GetInt64());
        Assert.Equal(94000, p1.GetProperty("bytesSent").GetInt64());
        Assert.Equal(7, p1.GetProperty("retransmissions").GetInt64());
        Assert.Equal(4, p1.GetProperty("nacksReceived").GetInt64());
        Assert.Equal(1, p1.GetProperty("plisReceived").GetInt64());
        Assert.Equal("ws", players[1].GetProperty("signaling").GetString());
        Assert.Equal(0, players[1].GetProperty("packetsSent").GetInt64());
        Assert.Equal(0, doc.GetProperty("streams")[1].GetProperty("players").GetArrayLength());
    }

    [Fact]
    public void ADocumentWithoutPlaybackIsPassedThrough()
    {
        var doc = Write("""{"sessions":0}""");
        Assert.Equal(0, doc.GetProperty("sessions").GetInt32());
        Assert.False(doc.TryGetProperty("streams", out _));
    }
}
