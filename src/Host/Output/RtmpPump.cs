using Engine.Codec;
using Engine.Codec.Rtmp;

namespace Engine.Host.Output;

/// <summary>
/// One thread drives every RTMP connection of our client: every <see cref="RtmpClientSettings.SendIntervalMillis"/>
/// (200 ms) it sends what each has pending (one send per connection), every 5 ms while one is
/// setting up. Thread-per-output woke 25 times a second per output; this wakes 5 times a second in all.
/// </summary>
public sealed class RtmpPump : IRtmpTransport
{
    public static readonly RtmpPump Shared = new();
    private const int SetupTickMs = 5;
    private readonly List<RtmpConnection> _connections = new();
    private readonly List<RtmpConnection> _snapshot = new();
    private readonly object _lock = new();
    private readonly byte[] _receiveBuffer = new byte[16 * 1024];
    private Thread? _thread;
    private bool _wake;

    public void Start(RtmpLink link)
    {
        var c = new RtmpConnection(link, OutputClock.NowMillis());
        lock (_lock)
        {
            _connections.Add(c);
            _wake = true;
            if (_thread == null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "rtmp-pump" };
                _thread.Start();
            }
            Monitor.Pulse(_lock);
        }
    }

    public void Wake()
    {
        lock (_lock)
        {
            _wake = true;
            Monitor.Pulse(_lock);
        }
    }

    private void Run()
    {
        bool settingUp = false;
        while (true)
        {
            lock (_lock)
            {
                if (!_wake)
                    Monitor.Wait(_lock, _connections.Count == 0 ? 1000 : settingUp ? SetupTickMs : RtmpClientSettings.SendIntervalMillis);
                _wake = false;
                _snapshot.Clear();
                _snapshot.AddRange(_connections);
            }
            settingUp = false;
            long now = OutputClock.NowMillis();
            foreach (var c in _snapshot)
            {
                bool alive;
                try
                {
                    alive = c.Step(now, _receiveBuffer);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A defect in one connection must not stop the others.
                    c.Kill("RTMP: " + e.Message);
                    alive = false;
                }
                if (!alive)
                {
                    lock (_lock)
                        _connections.Remove(c);
                }
                else
                    settingUp |= c.IsSettingUp;
            }
        }
    }
}
