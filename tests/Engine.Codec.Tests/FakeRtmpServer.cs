using System.Net;
using System.Net.Sockets;

namespace Engine.Codec.Tests;

/// <summary>One RTMP publisher's server on loopback: it answers as nginx-rtmp did (its recorded bytes), then reads whatever comes.</summary>
internal sealed class FakeRtmpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Thread _thread;
    private readonly System.Text.StringBuilder _text = new();
    private long _received;

    public FakeRtmpServer()
    {
        byte[] capture = File.ReadAllBytes(TestMedia.Data("nginx-rtmp-publish-server.bin"));
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _thread = new Thread(() =>
        {
            try
            {
                using var client = _listener.AcceptTcpClient();
                client.ReceiveTimeout = 20_000;
                var stream = client.GetStream();
                byte[] buffer = new byte[64 * 1024];
                int got = 0;
                while (got < 1537)
                    got += stream.Read(buffer, got, 1537 - got);
                stream.Write(capture);
                for (int n; (n = stream.Read(buffer)) > 0;)
                {
                    Interlocked.Add(ref _received, n);
                    lock (_text)
                        _text.Append(System.Text.Encoding.Latin1.GetString(buffer, 0, n));
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
            }
        }) { IsBackground = true };
        _thread.Start();
    }

    public int Port { get; }
    public string Url(string stream) => $"rtmp://127.0.0.1:{Port}/live/{stream}";
    public long Received => Interlocked.Read(ref _received);

    public string Text
    {
        get { lock (_text) return _text.ToString(); }
    }

    /// <summary>Until the client closes its connection (bounded).</summary>
    public void WaitForClose() => _thread.Join(TimeSpan.FromSeconds(10));

    public void Dispose()
    {
        _listener.Stop();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}
