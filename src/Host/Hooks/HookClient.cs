using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;

namespace Engine.Host.Hooks;

/// <summary>
/// JSON POSTs to the customer's back-end: a bounded queue served by EXTRTHREADCOUNT workers
/// (tasks, not threads: a worker waiting on the back-end holds no thread), each call tried up to
/// <see cref="HookOptions.Attempts"/> times with a doubling back-off. Enqueueing never waits: a
/// full queue answers <see cref="HookResult.QueueFull"/> at once.
/// </summary>
public sealed class HookClient : IDisposable
{
    private const int MaxReplyBytes = 64 * 1024;
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    private readonly HookOptions _options;
    private readonly HookCounters _counters;
    private readonly HttpClient _http;
    private readonly Channel<Job> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _lock = new();
    private readonly List<CancellationTokenSource> _workers = new();

    private sealed record Job(HookKind Kind, Uri Url, byte[] Body, TaskCompletionSource<HookResult> Done);

    public HookClient(HookOptions options, HookCounters counters, int workers)
    {
        _options = options;
        _counters = counters;
        var handler = options.Handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = options.Timeout };
        _http = new HttpClient(handler, disposeHandler: options.Handler == null)
        {
            Timeout = Timeout.InfiniteTimeSpan, // per attempt, below
            MaxResponseContentBufferSize = MaxReplyBytes,
        };
        _queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(Math.Max(1, options.QueueCapacity)) { FullMode = BoundedChannelFullMode.Wait });
        SetWorkers(workers);
    }

    public int Workers { get { lock (_lock) return _workers.Count; } }

    /// <summary>Grows or shrinks the pool live; a retiring worker finishes the call it holds.</summary>
    public void SetWorkers(int count)
    {
        count = Math.Clamp(count, 1, 64);
        lock (_lock)
        {
            if (_stop.IsCancellationRequested)
                return;
            while (_workers.Count < count)
            {
                var retire = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                _workers.Add(retire);
                _ = Task.Run(() => WorkAsync(retire.Token));
            }
            while (_workers.Count > count)
            {
                _workers[^1].Cancel();
                _workers.RemoveAt(_workers.Count - 1);
            }
        }
    }

    /// <summary>Queues a call; the task ends with its result (never faults).</summary>
    public Task<HookResult> EnqueueAsync(HookKind kind, Uri url, byte[] body)
    {
        var job = new Job(kind, url, body, new TaskCompletionSource<HookResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        _counters.Queued();
        if (_stop.IsCancellationRequested || !_queue.Writer.TryWrite(job))
        {
            _counters.Dequeued();
            _counters.Count(kind, HookResult.QueueFull);
            return Task.FromResult(HookResult.QueueFull);
        }
        return job.Done.Task;
    }

    /// <summary>The wait before retry number <paramref name="retry"/> (1 = the first retry): base × 2^(retry-1), capped.</summary>
    public static TimeSpan BackoffFor(int retry, TimeSpan baseDelay, TimeSpan max)
    {
        if (retry <= 0)
            return TimeSpan.Zero;
        double ms = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, max.TotalMilliseconds));
    }

    /// <summary>A 2xx reply's verdict: Ok only for a JSON object with <c>"ret": 1</c> (or <c>"1"</c>); JSON without it is a rejection, anything else a failure.</summary>
    public static HookResult Classify(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 16 });
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return HookResult.Failed;
            if (!doc.RootElement.TryGetProperty("ret", out var ret))
                return HookResult.Rejected;
            bool ok = ret.ValueKind switch
            {
                JsonValueKind.Number => ret.TryGetInt64(out long n) && n == 1,
                JsonValueKind.String => ret.GetString() == "1",
                _ => false,
            };
            return ok ? HookResult.Ok : HookResult.Rejected;
        }
        catch (JsonException)
        {
            return HookResult.Failed;
        }
    }

    private async Task WorkAsync(CancellationToken retire)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(retire))
            {
                if (!_queue.Reader.TryRead(out var job))
                    continue;
                _counters.Dequeued();
                var result = await SendAsync(job);
                _counters.Count(job.Kind, result);
                job.Done.TrySetResult(result);
                if (retire.IsCancellationRequested)
                    return;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<HookResult> SendAsync(Job job)
    {
        var last = HookResult.Failed;
        for (int attempt = 0; attempt < Math.Max(1, _options.Attempts); attempt++)
        {
            try
            {
                if (attempt > 0)
                    await Task.Delay(BackoffFor(attempt, _options.Backoff, _options.MaxBackoff), _options.Time, _stop.Token);
                _counters.Attempt();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(_options.Timeout);
                using var content = new ByteArrayContent(job.Body);
                content.Headers.ContentType = Json;
                using var reply = await _http.PostAsync(job.Url, content, timeout.Token);
                if (!reply.IsSuccessStatusCode)
                {
                    last = HookResult.Failed;
                    continue;
                }
                var body = await reply.Content.ReadAsByteArrayAsync(timeout.Token);
                last = Classify(body);
                if (last != HookResult.Failed)
                    return last; // a rejection is an answer: not retried
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return HookResult.Failed;
            }
            catch (OperationCanceledException)
            {
                last = HookResult.Timeout;
            }
            catch (Exception e) when (e is HttpRequestException or ObjectDisposedException or InvalidOperationException or IOException)
            {
                last = HookResult.Failed;
            }
        }
        return last;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_stop.IsCancellationRequested)
                return;
            _stop.Cancel();
            _workers.Clear();
        }
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var job))
        {
            _counters.Dequeued();
            job.Done.TrySetResult(HookResult.Failed);
        }
        _http.Dispose();
    }
}
