using System.Net;
using System.Text.Json;
using Engine.Dtls;
using Engine.Host.Config;
using Engine.Host.Playback;
using Engine.Host.Sessions;
using Engine.Host.Transport;

namespace Engine.Host.Tests.Playback;

/// <summary>PublishService.Play on a real loop: unknown streams, the shared session limit, players in /api/streams, the player ends with its publisher.</summary>
public sealed class PlayServiceTests : IDisposable
{
    private readonly MediaLoop _loop = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly string _publishOffer = Fixtures.ReadText("chromium156-offer.sdp");
    private static readonly string PlayOffer = PlayNegotiationTests.Offer.ReplaceLineEndings("\r\n");

    public PlayServiceTests() => _loop.Start();

    public void Dispose()
    {
        _loop.Dispose();
        _certificate.Dispose();
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        for (int i = 0; i < 500 && !condition(); i++)
            Thread.Sleep(10);
        Assert.True(condition(), what);
    }

    [Fact]
    public void PlayersCountAgainstTheLimitAreListedAndEndWithThePublisher()
    {
        var service = new PublishService(EngineConfig.Parse("[WEBRTC]\nWEBRTCMAXCLIENT=2\n"), _loop, _certificate);
        PublishOutcome Play(string stream) => service.Play(new PlayRequest { Stream = stream, OfferSdp = PlayOffer, Signaling = "whep" });

        var none = Play("cam");
        Assert.Equal(PublishError.NoSuchStream, none.Error);
        Assert.Equal(404, none.Error.HttpStatus());

        var pub = service.Publish(new PublishRequest { Stream = "cam", OfferSdp = _publishOffer, Signaling = "whip" });
        Assert.True(pub.Succeeded, pub.Reason);
        var play = Play("cam");
        Assert.True(play.Succeeded, play.Reason);
        Assert.Contains("a=sendonly", play.AnswerSdp);
        Assert.Contains("a=ice-lite", play.AnswerSdp);
        var full = Play("cam");
        Assert.Equal(PublishError.NoFreeSession, full.Error);
        Assert.Equal(503, full.Error.HttpStatus());

        using (var ms = new MemoryStream())
        {
            using (var w = new Utf8JsonWriter(ms))
                service.WriteStreams(w);
            var doc = JsonDocument.Parse(ms.ToArray()).RootElement;
            Assert.Equal(1, doc.GetProperty("players").GetInt32());
            var p = doc.GetProperty("playback").EnumerateArray().Single();
            Assert.Equal(play.SessionId, p.GetProperty("id").GetString());
            Assert.Equal("cam", p.GetProperty("stream").GetString());
            Assert.Equal(2, p.GetProperty("tracks").GetArrayLength());
        }

        // The player joins its publisher on the loop; when the publisher ends, so does the player.
        WaitFor(() => service.Find(pub.SessionId!)!.PlayerCount == 1, "the player to join its publisher");
        Assert.True(service.End(pub.SessionId!, "test"));
        WaitFor(() => service.PlayerCount == 0 && service.SessionCount == 0, "the player to end with its publisher");
        Assert.Equal(PublishError.NoSuchStream, Play("cam").Error);
    }
}
