using System.Net;
using Engine.Host.Config;
using Engine.Host.Hooks;
using Engine.Host.Signaling;

namespace Engine.Host.Tests.Hooks;

public class HookServiceTests
{
    private sealed class FakeSocket : IOnlineSocket
    {
        public List<string> Kicks { get; } = new();
        public void Kick(string userId) => Kicks.Add(userId);
    }

    private static EngineConfig Config(string ext) => EngineConfig.Parse("[EXT]\n" + ext);

    private static HookService Service(EngineConfig config, FakeBackEnd backEnd, TimeSpan? syncInterval = null) =>
        new(config, new HookOptions
        {
            Handler = backEnd,
            Backoff = TimeSpan.FromMilliseconds(1),
            Timeout = TimeSpan.FromSeconds(5),
            SyncInterval = syncInterval ?? TimeSpan.FromSeconds(30),
        });

    private const string Both = "EXTSETSTATUSPATH=http://backend.test/status\nEXTSYNCPATH=http://backend.test/sync\n";

    [Fact]
    public async Task NoHooksConfiguredAcceptsLoginsLocally()
    {
        var backEnd = new FakeBackEnd();
        using var hooks = Service(Config(""), backEnd);
        hooks.Start();
        var socket = new FakeSocket();
        Assert.Equal(LegacyErrno.Ok, (await hooks.LoginAsync(socket, "userId=bob")).Errno);
        Assert.Equal(new[] { "bob" }, hooks.Online.UserIds());
        Assert.Equal(SyncStart.NoUrl, hooks.RequestSync());
        hooks.Logout(socket);
        Assert.Empty(hooks.Online.UserIds());
        Assert.Empty(backEnd.Requests);
        Assert.Equal(0, hooks.Counters.Attempts);
    }

    [Theory]
    [InlineData("EXTSETSTATUSPATH=http://backend.test/status\n")]
    [InlineData("EXTSETSTATUSPATH=http://backend.test/status\nEXTSYNCPATH=\n")]
    public async Task AnEmptySyncUrlDoesNotFailLogins(string ext)
    {
        // The legacy bug: a status URL without a sync URL made every login fail.
        var backEnd = new FakeBackEnd();
        using var hooks = Service(Config(ext), backEnd);
        hooks.Start();
        Assert.Null(hooks.SyncUrl);
        Assert.False(hooks.SyncPending);
        Assert.Equal(LegacyErrno.Ok, (await hooks.LoginAsync(new FakeSocket(), "userId=bob&t=1")).Errno);
        var call = Assert.Single(backEnd.Requests);
        Assert.Equal("/status", call.Path);
        Assert.Equal("userId=bob&t=1", call.Body.GetProperty("param").GetString());
        Assert.Equal(1, call.Body.GetProperty("status").GetInt32());

        backEnd.Reply = (_, _, _) => throw new HttpRequestException("down");
        Assert.Equal(LegacyErrno.HookFailed, (await hooks.LoginAsync(new FakeSocket(), "userId=eve")).Errno);
        Assert.False(hooks.SyncPending); // nothing to sync to
        Assert.DoesNotContain(backEnd.Requests, r => r.Path == "/sync");
    }

    [Fact]
    public async Task LoginsAnswer16WhileTheSyncIsPending()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var backEnd = new FakeBackEnd
        {
            Reply = async (path, _, _) =>
            {
                if (path == "/sync")
                    await release.Task;
                return (HttpStatusCode.OK, """{"ret":1}""");
            },
        };
        using var hooks = Service(Config(Both), backEnd);
        hooks.Start(); // the start-up sync
        Assert.True(hooks.SyncPending);
        Assert.True(await FakeBackEnd.Until(() => backEnd.BodiesTo("/sync").Count == 1));
        Assert.Equal(0, backEnd.BodiesTo("/sync")[0].GetProperty("params").GetArrayLength());
        Assert.Equal(LegacyErrno.SyncPending, (await hooks.LoginAsync(new FakeSocket(), "userId=bob")).Errno);
        Assert.Empty(backEnd.BodiesTo("/status"));
        Assert.Equal(SyncStart.Pending, hooks.RequestSync());

        release.SetResult();
        Assert.True(await FakeBackEnd.Until(() => !hooks.SyncPending));
        Assert.Equal(LegacyErrno.Ok, (await hooks.LoginAsync(new FakeSocket(), "userId=bob")).Errno);
        Assert.Equal(1, hooks.Counters.Calls(HookKind.Sync, HookResult.Ok));
    }

    [Fact]
    public async Task TheSyncRunsAtMostOncePerIntervalAndCarriesEveryParam()
    {
        var backEnd = new FakeBackEnd();
        var time = new ManualTime();
        using var hooks = new HookService(Config(Both), new HookOptions { Handler = backEnd, Time = time, SyncInterval = TimeSpan.FromSeconds(30) });
        await hooks.LoginAsync(new FakeSocket(), "userId=alice&a=1");
        await hooks.LoginAsync(new FakeSocket(), "userId=bob&b=2");
        Assert.Equal(SyncStart.Started, hooks.RequestSync());
        Assert.True(await FakeBackEnd.Until(() => !hooks.SyncPending));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(SyncStart.Deferred, hooks.RequestSync());
        Assert.Equal(SyncStart.Deferred, hooks.RequestSync()); // coalesced into one timer
        Assert.Equal(1, time.PendingTimers);
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(1, time.PendingTimers);
        Assert.False(hooks.SyncPending);
        Assert.Single(backEnd.BodiesTo("/sync"));
        time.Advance(TimeSpan.FromSeconds(1)); // 30 s after the first
        Assert.True(await FakeBackEnd.Until(() => backEnd.BodiesTo("/sync").Count == 2 && !hooks.SyncPending));
        Assert.Equal(0, time.PendingTimers);
        var sent = backEnd.BodiesTo("/sync")[1].GetProperty("params").EnumerateArray().Select(p => p.GetString()).Order().ToArray();
        Assert.Equal(new[] { "userId=alice&a=1", "userId=bob&b=2" }, sent);
        Assert.Equal(2, hooks.Counters.Calls(HookKind.Sync, HookResult.Ok));
    }

    [Fact]
    public async Task AFailedSyncIsRetriedAfterTheInterval()
    {
        int syncs = 0;
        var backEnd = new FakeBackEnd
        {
            Reply = (_, _, _) => Task.FromResult(Interlocked.Increment(ref syncs) <= 3 ? (HttpStatusCode.ServiceUnavailable, "") : (HttpStatusCode.OK, """{"ret":1}""")),
        };
        var time = new ManualTime();
        using var hooks = new HookService(Config(Both), new HookOptions { Handler = backEnd, Time = time, Backoff = TimeSpan.Zero });
        hooks.Start();
        // Back-off waits are timers of this clock too: step it until the first call's 3 attempts are spent.
        Assert.True(await FakeBackEnd.Until(() => { time.Advance(TimeSpan.Zero); return hooks.Counters.Calls(HookKind.Sync, HookResult.Failed) == 1; }));
        Assert.True(await FakeBackEnd.Until(() => time.PendingTimers == 1)); // the retry, 30 s on
        Assert.False(hooks.SyncPending);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(await FakeBackEnd.Until(() => hooks.Counters.Calls(HookKind.Sync, HookResult.Ok) == 1));
        Assert.Equal(4, syncs);
    }

    [Fact]
    public async Task AFailedStatusCallAnswers12AndAsksForASync()
    {
        var backEnd = new FakeBackEnd
        {
            Reply = (path, _, _) => path == "/status"
                ? Task.FromResult((HttpStatusCode.InternalServerError, ""))
                : Task.FromResult((HttpStatusCode.OK, """{"ret":1}""")),
        };
        using var hooks = Service(Config(Both), backEnd, syncInterval: TimeSpan.Zero);
        var (errno, message) = await hooks.LoginAsync(new FakeSocket(), "userId=bob");
        Assert.Equal(LegacyErrno.HookFailed, errno);
        Assert.Contains("back-end", message);
        Assert.Equal(3, backEnd.BodiesTo("/status").Count); // the attempts
        Assert.True(await FakeBackEnd.Until(() => hooks.Counters.Calls(HookKind.Sync, HookResult.Ok) == 1));
        Assert.Equal(1, hooks.Counters.Calls(HookKind.Status, HookResult.Failed));
        Assert.Empty(hooks.Online.UserIds());
    }

    [Fact]
    public async Task RejectedMissingUserIdAndDoubleLogin()
    {
        var backEnd = new FakeBackEnd { Reply = (_, body, _) => Task.FromResult((HttpStatusCode.OK, body.GetProperty("param").GetString() == "userId=eve" ? """{"ret":0}""" : """{"ret":1}""")) };
        using var hooks = Service(Config(Both), backEnd);
        Assert.Equal(LegacyErrno.LoginRejected, (await hooks.LoginAsync(new FakeSocket(), "userId=eve")).Errno);
        Assert.Equal(LegacyErrno.MissingParameter, (await hooks.LoginAsync(new FakeSocket(), "token=1")).Errno);
        var socket = new FakeSocket();
        Assert.Equal(LegacyErrno.Ok, (await hooks.LoginAsync(socket, "userId=bob")).Errno);
        Assert.Equal(LegacyErrno.LoginRejected, (await hooks.LoginAsync(socket, "userId=bob")).Errno);
        Assert.Equal(1, hooks.Counters.OnlineUsers);
    }

    [Fact]
    public async Task KickingAUserKicksEachOfItsSocketsAndSendsTheOfflineCalls()
    {
        var backEnd = new FakeBackEnd();
        using var hooks = Service(Config(Both), backEnd);
        FakeSocket a = new(), b = new(), other = new();
        await hooks.LoginAsync(a, "userId=bob&dev=1");
        await hooks.LoginAsync(b, "userId=bob&dev=2");
        await hooks.LoginAsync(other, "userId=carol");
        Assert.Equal(2, hooks.Counters.OnlineUsers);
        Assert.Equal(3, hooks.Counters.OnlineSockets);

        Assert.Equal(2, hooks.Kick("bob"));
        Assert.Equal(new[] { "bob" }, a.Kicks);
        Assert.Equal(new[] { "bob" }, b.Kicks);
        Assert.Empty(other.Kicks);
        Assert.Equal(new[] { "carol" }, hooks.Online.UserIds());
        Assert.Equal(0, hooks.Kick("nobody"));
        Assert.True(await FakeBackEnd.Until(() => hooks.Counters.Calls(HookKind.Offline, HookResult.Ok) == 2));
        var offline = backEnd.BodiesTo("/status").Where(x => x.GetProperty("status").GetInt32() == 0).Select(x => x.GetProperty("param").GetString()).Order();
        Assert.Equal(new[] { "userId=bob&dev=1", "userId=bob&dev=2" }, offline);
        hooks.Logout(a); // the socket's own close after the kick: no second offline call
        await Task.Delay(100);
        Assert.Equal(2, hooks.Counters.Calls(HookKind.Offline, HookResult.Ok));
    }

    [Fact]
    public async Task ApplySwapsTheUrlsAndTheWorkersLive()
    {
        var backEnd = new FakeBackEnd();
        using var hooks = Service(Config(""), backEnd);
        Assert.Equal(LegacyErrno.Ok, (await hooks.LoginAsync(new FakeSocket(), "userId=a")).Errno);
        Assert.Empty(backEnd.Requests);

        hooks.Apply(Config("EXTSETSTATUSPATH=http://backend.test/v2/status\nEXTRTHREADCOUNT=4\n"));
        Assert.Equal(4, hooks.Workers);
        Assert.Equal(LegacyErrno.Ok, (await hooks.LoginAsync(new FakeSocket(), "userId=b")).Errno);
        Assert.Equal("/v2/status", Assert.Single(backEnd.Requests).Path);

        hooks.Apply(Config(""));
        Assert.Equal(1, hooks.Workers);
        Assert.Null(hooks.StatusUrl);
        Assert.Equal(LegacyErrno.Ok, (await hooks.LoginAsync(new FakeSocket(), "userId=c")).Errno);
        Assert.Single(backEnd.Requests);
    }

    [Fact]
    public async Task AFullQueueAnswers15()
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
        using var hooks = new HookService(Config("EXTSETSTATUSPATH=http://backend.test/status\n"), new HookOptions { Handler = backEnd, QueueCapacity = 1 });
        var first = hooks.LoginAsync(new FakeSocket(), "userId=a");
        Assert.True(await FakeBackEnd.Until(() => backEnd.Requests.Count == 1));
        var second = hooks.LoginAsync(new FakeSocket(), "userId=b");
        var (errno, _) = await hooks.LoginAsync(new FakeSocket(), "userId=c").WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(LegacyErrno.HookQueueFull, errno);
        release.SetResult();
        Assert.Equal(LegacyErrno.Ok, (await first.WaitAsync(TimeSpan.FromSeconds(10))).Errno);
        Assert.Equal(LegacyErrno.Ok, (await second.WaitAsync(TimeSpan.FromSeconds(10))).Errno);
        Assert.Equal(1, hooks.Counters.Calls(HookKind.Status, HookResult.QueueFull));
    }
}
