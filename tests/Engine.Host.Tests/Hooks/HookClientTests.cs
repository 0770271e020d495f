using System.Net;
using System.Text;
using Engine.Host.Hooks;

namespace Engine.Host.Tests.Hooks;

public class HookClientTests
{
    private static readonly Uri Status = new("http://backend.test/status");

    private static HookClient Client(FakeBackEnd backEnd, HookCounters counters, int workers = 1, int capacity = 16, int attempts = 3,
        TimeProvider? time = null, TimeSpan? timeout = null) =>
        new(new HookOptions
        {
            Handler = backEnd,
            QueueCapacity = capacity,
            Attempts = attempts,
            Backoff = TimeSpan.FromMilliseconds(250),
            MaxBackoff = TimeSpan.FromSeconds(1),
            Timeout = timeout ?? TimeSpan.FromSeconds(5),
            Time = time ?? TimeProvider.System,
        }, counters, workers);

    private static byte[] Body => HookService.StatusBody("userId=bob", 1);

    [Theory]
    [InlineData("""{"ret":1}""", HookResult.Ok)]
    [InlineData("""{"ret":"1","errmsg":""}""", HookResult.Ok)]
    [InlineData("""{"errmsg":"x","ret":1}""", HookResult.Ok)]
    [InlineData("""{"ret":0}""", HookResult.Rejected)]
    [InlineData("""{"ret":2}""", HookResult.Rejected)]
    [InlineData("""{"ret":true}""", HookResult.Rejected)]
    [InlineData("""{"ok":1}""", HookResult.Rejected)]
    [InlineData("""[{"ret":1}]""", HookResult.Failed)]
    [InlineData("""ret=1""", HookResult.Failed)]
    [InlineData("", HookResult.Failed)]
    public void OnlyRetOneIsSuccess(string reply, HookResult expected) =>
        Assert.Equal(expected, HookClient.Classify(Encoding.UTF8.GetBytes(reply)));

    [Fact]
    public void TheBackoffDoublesUpToItsCap()
    {
        var b = TimeSpan.FromMilliseconds(250);
        var cap = TimeSpan.FromSeconds(1);
        Assert.Equal(TimeSpan.Zero, HookClient.BackoffFor(0, b, cap));
        Assert.Equal(TimeSpan.FromMilliseconds(250), HookClient.BackoffFor(1, b, cap));
        Assert.Equal(TimeSpan.FromMilliseconds(500), HookClient.BackoffFor(2, b, cap));
        Assert.Equal(TimeSpan.FromMilliseconds(1000), HookClient.BackoffFor(3, b, cap));
        Assert.Equal(TimeSpan.FromMilliseconds(1000), HookClient.BackoffFor(40, b, cap));
    }

    [Fact]
    public async Task AFailedCallIsRetriedAfterTheBackoffUntilItSucceeds()
    {
        int calls = 0;
        var backEnd = new FakeBackEnd
        {
            Reply = (_, _, _) => Interlocked.Increment(ref calls) switch
            {
                1 => throw new HttpRequestException("connection refused"),
                2 => Task.FromResult((HttpStatusCode.BadGateway, "")),
                _ => Task.FromResult((HttpStatusCode.OK, """{"ret":1}""")),
            },
        };
        var time = new RecordingTime();
        var counters = new HookCounters();
        using var client = Client(backEnd, counters, time: time);
        var result = await client.EnqueueAsync(HookKind.Status, Status, Body).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HookResult.Ok, result);
        Assert.Equal(3, calls);
        Assert.Equal(3, counters.Attempts);
        Assert.Equal(new[] { TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500) }, time.Delays.ToArray());
        Assert.Equal(1, counters.Calls(HookKind.Status, HookResult.Ok));
        Assert.Equal(0, counters.Calls(HookKind.Status, HookResult.Failed));
        var body = backEnd.BodiesTo("/status")[^1];
        Assert.Equal("userId=bob", body.GetProperty("param").GetString());
        Assert.Equal(1, body.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task ACallFailsAfterItsAttempts()
    {
        var backEnd = new FakeBackEnd { Reply = (_, _, _) => throw new HttpRequestException("connection refused") };
        var counters = new HookCounters();
        using var client = Client(backEnd, counters, attempts: 3, time: new RecordingTime());
        Assert.Equal(HookResult.Failed, await client.EnqueueAsync(HookKind.Offline, Status, Body).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, backEnd.Requests.Count);
        Assert.Equal(1, counters.Calls(HookKind.Offline, HookResult.Failed));
    }

    [Fact]
    public async Task ARejectionIsAnAnswerAndIsNotRetried()
    {
        var backEnd = new FakeBackEnd { Reply = (_, _, _) => Task.FromResult((HttpStatusCode.OK, """{"ret":0,"errmsg":"banned"}""")) };
        var counters = new HookCounters();
        using var client = Client(backEnd, counters);
        Assert.Equal(HookResult.Rejected, await client.EnqueueAsync(HookKind.Status, Status, Body).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Single(backEnd.Requests);
        Assert.Equal(1, counters.Calls(HookKind.Status, HookResult.Rejected));
    }

    [Fact]
    public async Task ABackEndThatNeverAnswersTimesOut()
    {
        var backEnd = new FakeBackEnd
        {
            Reply = async (_, _, ct) =>
            {
                await Task.Delay(Timeout.Infinite, ct);
                return (HttpStatusCode.OK, "");
            },
        };
        var counters = new HookCounters();
        using var client = Client(backEnd, counters, attempts: 2, time: new RecordingTime(), timeout: TimeSpan.FromMilliseconds(100));
        Assert.Equal(HookResult.Timeout, await client.EnqueueAsync(HookKind.Sync, Status, Body).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, backEnd.Requests.Count);
        Assert.Equal(1, counters.Calls(HookKind.Sync, HookResult.Timeout));
    }

    [Fact]
    public async Task AFullQueueRefusesAtOnce()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var backEnd = new FakeBackEnd
        {
            Reply = async (_, _, _) =>
            {
                await release.Task;
                return (HttpStatusCode.OK, """{"ret":1}""");
            },
        };
        var counters = new HookCounters();
        using var client = Client(backEnd, counters, workers: 1, capacity: 1);
        var first = client.EnqueueAsync(HookKind.Status, Status, Body);
        Assert.True(await FakeBackEnd.Until(() => backEnd.Requests.Count == 1)); // the worker holds it
        var second = client.EnqueueAsync(HookKind.Status, Status, Body);
        Assert.Equal(1, counters.QueueDepth);
        var third = client.EnqueueAsync(HookKind.Status, Status, Body);
        Assert.True(third.IsCompleted);
        Assert.Equal(HookResult.QueueFull, await third);
        Assert.Equal(1, counters.Calls(HookKind.Status, HookResult.QueueFull));
        Assert.Equal(1, counters.QueueDepth);

        release.SetResult();
        Assert.Equal(HookResult.Ok, await first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(HookResult.Ok, await second.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, counters.QueueDepth);
        Assert.Equal(2, counters.Calls(HookKind.Status, HookResult.Ok));
    }

    [Fact]
    public async Task TheWorkersServeCallsInParallelAndTheirNumberChangesLive()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var backEnd = new FakeBackEnd
        {
            Reply = async (_, _, _) =>
            {
                await release.Task;
                return (HttpStatusCode.OK, """{"ret":1}""");
            },
        };
        var counters = new HookCounters();
        using var client = Client(backEnd, counters, workers: 1, capacity: 16);
        var calls = Enumerable.Range(0, 3).Select(_ => client.EnqueueAsync(HookKind.Status, Status, Body)).ToList();
        Assert.True(await FakeBackEnd.Until(() => backEnd.Requests.Count == 1));
        client.SetWorkers(3);
        Assert.Equal(3, client.Workers);
        Assert.True(await FakeBackEnd.Until(() => backEnd.MaxInFlight == 3));
        release.SetResult();
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(10));
        client.SetWorkers(1);
        Assert.Equal(1, client.Workers);
        Assert.Equal(HookResult.Ok, await client.EnqueueAsync(HookKind.Status, Status, Body).WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
