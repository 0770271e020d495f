using System.Buffers;
using System.Text.Json;
using Engine.Host.Config;
using Engine.Host.Logging;
using Engine.Host.Signaling;

namespace Engine.Host.Hooks;

/// <summary>
/// The legacy gateway's hooks to the customer's back-end (docs/LEGACY-GATEWAY.md): the login check
/// and the offline call on EXTSETSTATUSPATH, the online-list sync on EXTSYNCPATH, the online list
/// behind <c>/getonlineusers</c> and <c>/kickuser</c>. No status URL: logins are accepted locally.
/// No sync URL: no sync (the legacy gateway failed every login then; we do not).
/// Nothing here blocks: calls are queued to <see cref="HookClient"/> and awaited.
/// </summary>
public sealed class HookService : IDisposable
{
    private sealed record Urls(Uri? Status, Uri? Sync);

    private readonly HookOptions _options;
    private readonly HookClient _client;
    private volatile Urls _urls;

    private readonly object _syncLock = new();
    private bool _syncInFlight;
    private bool _syncDeferred;
    private bool _synced; // one has started: the interval applies
    private long _lastSyncStart;
    private ITimer? _syncTimer;
    private bool _disposed;

    public HookService(EngineConfig config, HookOptions? options = null)
    {
        _options = options ?? new HookOptions();
        Counters = new HookCounters();
        Online = new OnlineUsers(Counters);
        _urls = UrlsOf(config);
        _client = new HookClient(_options, Counters, config.ExtThreadCount);
    }

    public HookCounters Counters { get; }
    public OnlineUsers Online { get; }
    public Uri? StatusUrl => _urls.Status;
    public Uri? SyncUrl => _urls.Sync;
    public int Workers => _client.Workers;
    public TimeSpan SyncInterval => _options.SyncInterval;

    /// <summary>True while a sync is in flight: logins answer errno 16.</summary>
    public bool SyncPending
    {
        get { lock (_syncLock) return _syncInFlight; }
    }

    /// <summary>Says what runs and starts the start-up sync.</summary>
    public void Start()
    {
        var urls = _urls;
        Log.Notice(urls.Status == null && urls.Sync == null
            ? "hooks: none configured ([EXT] EXTSETSTATUSPATH, EXTSYNCPATH): logins are accepted locally"
            : $"hooks: status {Show(urls.Status)}, sync {Show(urls.Sync)}, {_client.Workers} worker(s)");
        RequestSync();
    }

    /// <summary>Takes the [EXT] keys of a re-read config: URLs and worker count change live.</summary>
    public void Apply(EngineConfig config)
    {
        var before = _urls;
        var after = UrlsOf(config);
        _urls = after;
        _client.SetWorkers(config.ExtThreadCount);
        Log.Notice($"hooks: status {Show(after.Status)}, sync {Show(after.Sync)}, {_client.Workers} worker(s)");
        if (after.Sync != null && after.Sync != before.Sync)
            RequestSync();
    }

    /// <summary>
    /// imRTC/login: checks <paramref name="param"/> with the back-end and adds the socket to the
    /// online list. Errno 3 without a userId, 16 while a sync is pending, 15 when the queue is full,
    /// 11 when the back-end says no, 12 when it does not answer (which also asks for a sync).
    /// </summary>
    public async Task<(LegacyErrno Errno, string Message)> LoginAsync(IOnlineSocket socket, string? param)
    {
        if (!UserParam.TryGetUserId(param, out var userId))
            return (LegacyErrno.MissingParameter, "param must be a k=v&... string holding userId");
        if (Online.Contains(socket))
            return (LegacyErrno.LoginRejected, "this socket is already logged in");
        if (SyncPending)
            return (LegacyErrno.SyncPending, "the online list is being synchronised with the back-end: try again");
        var status = _urls.Status;
        if (status == null)
        {
            Online.Add(socket, userId, param!);
            return (LegacyErrno.Ok, "");
        }
        var result = await _client.EnqueueAsync(HookKind.Status, status, StatusBody(param!, 1));
        switch (result)
        {
            case HookResult.Ok:
                Online.Add(socket, userId, param!);
                return (LegacyErrno.Ok, "");
            case HookResult.Rejected:
                return (LegacyErrno.LoginRejected, "login rejected by the back-end");
            case HookResult.QueueFull:
                return (LegacyErrno.HookQueueFull, "the hook queue is full");
            default:
                Log.Warn($"hooks: login check for '{userId}' {(result == HookResult.Timeout ? "timed out" : "failed")} after {_options.Attempts} attempt(s)");
                RequestSync();
                return (LegacyErrno.HookFailed, result == HookResult.Timeout ? "the back-end did not answer in time" : "the back-end could not be reached");
        }
    }

    /// <summary>A socket closed: drops it from the online list and, if it was logged in, sends the offline call (not awaited).</summary>
    public void Logout(IOnlineSocket socket)
    {
        if (!Online.TryRemove(socket, out var userId, out var param))
            return;
        if (_urls.Status is { } status)
            _ = OfflineAsync(status, userId, param);
    }

    /// <summary>/kickuser: every socket of the user gets imRTC/sendKickUserNotice and is closed; returns how many.</summary>
    public int Kick(string userId)
    {
        var sockets = Online.SocketsOf(userId);
        foreach (var socket in sockets)
        {
            Logout(socket); // off the list at once, so /getonlineusers agrees
            socket.Kick(userId);
        }
        return sockets.Count;
    }

    /// <summary>Asks for the online-list sync: now, or when the sync interval since the last one is over.</summary>
    public SyncStart RequestSync()
    {
        Task<HookResult>? started;
        lock (_syncLock)
        {
            if (_disposed || _urls.Sync == null)
                return SyncStart.NoUrl;
            if (_syncInFlight)
                return SyncStart.Pending;
            if (_syncDeferred)
                return SyncStart.Deferred;
            if (_synced)
            {
                var wait = _options.SyncInterval - _options.Time.GetElapsedTime(_lastSyncStart);
                if (wait > TimeSpan.Zero)
                {
                    _syncDeferred = true;
                    _syncTimer = _options.Time.CreateTimer(_ => StartDeferred(), null, wait, Timeout.InfiniteTimeSpan);
                    return SyncStart.Deferred;
                }
            }
            started = StartSyncLocked();
        }
        if (started != null)
            _ = FinishSyncAsync(started);
        return SyncStart.Started;
    }

    private void StartDeferred()
    {
        Task<HookResult>? started;
        lock (_syncLock)
        {
            _syncDeferred = false;
            _syncTimer?.Dispose();
            _syncTimer = null;
            if (_disposed || _urls.Sync == null || _syncInFlight)
                return;
            started = StartSyncLocked();
        }
        if (started != null)
            _ = FinishSyncAsync(started);
    }

    private Task<HookResult>? StartSyncLocked()
    {
        var url = _urls.Sync;
        if (url == null)
            return null;
        _synced = true;
        _lastSyncStart = _options.Time.GetTimestamp();
        _syncInFlight = true;
        return _client.EnqueueAsync(HookKind.Sync, url, SyncBody(Online.Params()));
    }

    private async Task FinishSyncAsync(Task<HookResult> call)
    {
        var result = await call;
        lock (_syncLock)
            _syncInFlight = false;
        if (result != HookResult.Ok)
        {
            Log.Warn($"hooks: online-list sync {HookCounters.Label(result)}: retried in {_options.SyncInterval.TotalSeconds:0.#} s");
            RequestSync(); // deferred by the interval: retried until the back-end takes it
        }
    }

    private async Task OfflineAsync(Uri status, string userId, string param)
    {
        var result = await _client.EnqueueAsync(HookKind.Offline, status, StatusBody(param, 0));
        if (result != HookResult.Ok)
        {
            Log.Warn($"hooks: offline call for '{userId}': {HookCounters.Label(result)}");
            RequestSync();
        }
    }

    /// <summary><c>{"param": "...", "status": 1|0}</c></summary>
    public static byte[] StatusBody(string param, int status)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + param.Length);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("param", param);
            w.WriteNumber("status", status);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><c>{"params": ["...", ...]}</c></summary>
    public static byte[] SyncBody(IEnumerable<string> parameters)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("params");
            foreach (var p in parameters)
                w.WriteStringValue(p);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static Urls UrlsOf(EngineConfig config) => new(UrlOf(config.ExtSetStatusUrl), UrlOf(config.ExtSyncUrl));

    private static Uri? UrlOf(string? text) =>
        !string.IsNullOrWhiteSpace(text) && Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) ? uri : null;

    // The query may carry a back-end token: logged without it.
    private static string Show(Uri? url) => url == null ? "none" : url.GetLeftPart(UriPartial.Path);

    public void Dispose()
    {
        lock (_syncLock)
        {
            _disposed = true;
            _syncTimer?.Dispose();
            _syncTimer = null;
        }
        _client.Dispose();
    }
}
