using System.Net;
using Engine.Dtls;
using Engine.Host.Config;
using Engine.Host.Sessions;
using Engine.Host.Transport;

namespace Engine.Host.Tests.Sessions;

/// <summary>Issue 5: opening and ending many sessions leaves nothing behind.</summary>
// The heap measurements here read process-wide counters: nothing else may run alongside.
[Collection("alone")]
public sealed class SessionLifecycleTests : IDisposable
{
    private readonly MediaLoop _loop = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly PublishService _service;
    private readonly string _offer = Fixtures.ReadText("chromium156-offer.sdp");

    public SessionLifecycleTests()
    {
        var config = EngineConfig.Parse("[WEBRTC]\nWEBRTCMAXCLIENT=250\n");
        _service = new PublishService(config, _loop, _certificate);
        _loop.Start();
    }

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

    private void Round(int sessions)
    {
        var ids = new List<string>();
        for (int i = 0; i < sessions; i++)
        {
            var outcome = _service.Publish(new PublishRequest { Stream = "s" + i, OfferSdp = _offer, Signaling = "whip", LocalAddress = IPAddress.Loopback });
            Assert.True(outcome.Succeeded, outcome.Reason);
            ids.Add(outcome.SessionId!);
        }
        WaitFor(() => _loop.SessionCount == sessions, "sessions joined the loop");
        foreach (var id in ids)
            Assert.True(_service.End(id, "test"));
        WaitFor(() => _loop.SessionCount == 0 && _service.SessionCount == 0, "sessions left");
    }

    [Fact]
    public void TwoHundredSessionsOpenAndEndAndNothingGrows()
    {
        Round(200); // warm-up: JIT, pools, dictionaries at their size
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int r = 0; r < 3; r++)
            Round(200);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        // One session holds ~150 KB of buffers: a leak of even 10 of 600 would show.
        Assert.True(after - before < 1_000_000, $"heap grew by {after - before} bytes over 600 sessions");
    }

    [Fact]
    public void ASessionCostsLittleMemoryBeforeMediaFlows()
    {
        Round(20); // warm-up
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var ids = new List<string>();
        for (int i = 0; i < 100; i++)
            ids.Add(_service.Publish(new PublishRequest { Stream = "m" + i, OfferSdp = _offer, Signaling = "whip", LocalAddress = IPAddress.Loopback }).SessionId!);
        WaitFor(() => _loop.SessionCount == 100, "sessions joined the loop");
        long perSession = (GC.GetTotalMemory(forceFullCollection: true) - before) / 100;
        foreach (var id in ids)
            _service.End(id, "test");
        WaitFor(() => _loop.SessionCount == 0, "sessions left");
        // Audio + video: frame buffers, NACK rings, transmit slots, DTLS and ICE state; no reorder arena yet.
        Assert.InRange(perSession, 1, 150_000);
        Console.WriteLine($"heap per session before media: {perSession} B");
    }

    [Fact]
    public void AScrapeHoldingTheMetricsLockDoesNotStallTheMediaThread()
    {
        var outcome = _service.Publish(new PublishRequest { Stream = "held", OfferSdp = _offer, Signaling = "whip", LocalAddress = IPAddress.Loopback });
        Assert.True(outcome.Succeeded, outcome.Reason);
        WaitFor(() => _loop.SessionCount == 1, "session joined the loop");
        lock (_service.MetricsLock)
        {
            // The session ends on the media thread while a "scrape" holds the lock: the loop must
            // still drop it, and the session stays live (not retired) until the lock is free.
            Assert.True(_service.End(outcome.SessionId!, "test"));
            WaitFor(() => _loop.SessionCount == 0, "the media thread dropped the session while the lock was held");
            // The count drops before the loop tries the lock and defers: wait for that step too.
            WaitFor(() => Interlocked.Read(ref _service.RetiresDeferred) > 0, "the retirement was deferred");
            Assert.Equal(1, Interlocked.Read(ref _service.RetiresDeferred));
            Assert.Equal(1, _service.SessionCount);
        }
        WaitFor(() => _service.SessionCount == 0, "the deferred retirement ran once the lock was free");
    }

    [Fact]
    public void TheSessionLimitAndBusyStreamsAreRefused()
    {
        var config = EngineConfig.Parse("[WEBRTC]\nWEBRTCMAXCLIENT=2\n");
        var service = new PublishService(config, _loop, _certificate);
        PublishOutcome P(string stream) => service.Publish(new PublishRequest { Stream = stream, OfferSdp = _offer, Signaling = "ws" });
        var a = P("a");
        Assert.True(a.Succeeded);
        Assert.Equal(PublishError.StreamBusy, P("a").Error);
        Assert.True(P("b").Succeeded);
        var full = P("c");
        Assert.Equal(PublishError.NoFreeSession, full.Error);
        Assert.Contains("WEBRTCMAXCLIENT", full.Reason);
        Assert.Equal(PublishError.BadSdp, P2(service, "not sdp").Error);
        service.End(a.SessionId!, "test");
        WaitFor(() => service.SessionCount == 1, "a ended");
        Assert.True(P("c").Succeeded);
    }

    private static PublishOutcome P2(PublishService s, string sdp) => s.Publish(new PublishRequest { Stream = "x", OfferSdp = sdp, Signaling = "ws" });
}

[CollectionDefinition("alone", DisableParallelization = true)]
public sealed class AloneCollection;
