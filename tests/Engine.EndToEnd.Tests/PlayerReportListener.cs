using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Engine.EndToEnd.Tests;

/// <summary>
/// A tiny HTTP listener the test page's <c>&amp;report=URL</c> POSTs its player counters to, for a
/// browser the test cannot script (Firefox has no DevTools protocol here). Keeps the latest report.
/// </summary>
internal sealed class PlayerReportListener : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private JsonElement _latest = JsonDocument.Parse("{}").RootElement.Clone();

    public PlayerReportListener(string address)
    {
        _listener = new TcpListener(IPAddress.Parse(address), 0);
        _listener.Start();
        Url = $"http://{address}:{((IPEndPoint)_listener.LocalEndpoint).Port}/report";
        _accepting = AcceptAsync();
    }

    public string Url { get; }
    public int Reports { get; private set; }

    public Task<JsonElement> LatestAsync()
    {
        lock (_listener) return Task.FromResult(_latest);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = HandleAsync(client);
        }
    }

    // One request per connection: headers, Content-Length bytes of body, 204 back.
    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                cts.CancelAfter(TimeSpan.FromSeconds(10));
                var stream = client.GetStream();
                var buffer = new byte[256 * 1024];
                int used = 0, headerEnd = -1;
                while (headerEnd < 0 && used < buffer.Length)
                {
                    int n = await stream.ReadAsync(buffer.AsMemory(used), cts.Token);
                    if (n == 0)
                        return;
                    used += n;
                    headerEnd = buffer.AsSpan(0, used).IndexOf("\r\n\r\n"u8);
                }
                if (headerEnd < 0)
                    return;
                string headers = Encoding.ASCII.GetString(buffer, 0, headerEnd);
                int length = 0;
                foreach (var line in headers.Split("\r\n"))
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                        length = int.Parse(line[15..].Trim());
                int bodyStart = headerEnd + 4;
                while (used < bodyStart + length && used < buffer.Length)
                {
                    int n = await stream.ReadAsync(buffer.AsMemory(used), cts.Token);
                    if (n == 0)
                        break;
                    used += n;
                }
                if (headers.StartsWith("POST", StringComparison.Ordinal) && length > 0 && used >= bodyStart + length)
                {
                    try
                    {
                        var report = JsonDocument.Parse(buffer.AsMemory(bodyStart, length)).RootElement.Clone();
                        lock (_listener)
                        {
                            _latest = report;
                            Reports++;
                        }
                    }
                    catch (JsonException)
                    {
                    }
                }
                await stream.WriteAsync("HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), cts.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or FormatException)
            {
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _accepting.Wait(5000); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
