namespace Engine.Codec;

/// <summary>
/// Shared writer threads for outputs whose writer work never blocks. With our RTMP client a write
/// appends to the connection's buffer and remuxed video is written on the media thread, so what is
/// left for the writer is the Opus to AAC transcode. One worker per core (at most 8) serves them
/// all: every <see cref="RtmpClientSettings.SendIntervalMillis"/> it gives each output it holds a
/// turn. Measured in C with FFmpeg on the bench recording's audio (50 streams paced at real time,
/// 200 ms batches): a thread per stream spent 0.211-0.213 CPU-s per stream per 20 s, one shared
/// thread 0.178, two 0.187. An output whose work turns heavy or blocking (a video transcode, its
/// final close) leaves for its own thread.
/// </summary>
internal sealed class OutputWorkers
{
    /// <summary>What a worker serves.</summary>
    internal interface IMember
    {
        /// <summary>One turn on the worker's thread; false when the member leaves the worker.</summary>
        bool Turn();

        /// <summary>Turn threw: the member must leave the worker (it is not called again).</summary>
        void TurnFailed(Exception e);
    }

    public static readonly OutputWorkers Shared = new(Math.Clamp(Environment.ProcessorCount, 1, 8), "flv-writers");

    private readonly Worker[] _workers;

    public OutputWorkers(int workers, string name)
    {
        _workers = new Worker[workers];
        for (int i = 0; i < workers; i++)
            _workers[i] = new Worker($"{name}-{i}");
    }

    /// <summary>Places the member on the worker holding the fewest; returns that worker's wake-up.</summary>
    public Action Add(IMember member)
    {
        var least = _workers[0];
        foreach (var w in _workers)
        {
            if (w.Count < least.Count)
                least = w;
        }
        least.Add(member);
        return least.Wake;
    }

    /// <summary>Members on each worker (tests).</summary>
    internal int[] Counts => _workers.Select(w => w.Count).ToArray();

    private sealed class Worker
    {
        private readonly string _name;
        private readonly List<IMember> _members = new();
        private readonly List<IMember> _snapshot = new();
        private readonly object _lock = new();
        private Thread? _thread;
        private bool _wake;

        public Worker(string name) => _name = name;

        public int Count
        {
            get { lock (_lock) return _members.Count; }
        }

        public void Add(IMember member)
        {
            lock (_lock)
            {
                _members.Add(member);
                if (_thread == null)
                {
                    _thread = new Thread(Run) { IsBackground = true, Name = _name };
                    _thread.Start();
                }
                if (_members.Count == 1)
                    Monitor.Pulse(_lock); // it waits without a timeout while it has nobody
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
            while (true)
            {
                lock (_lock)
                {
                    while (_members.Count == 0)
                        Monitor.Wait(_lock);
                    if (!_wake)
                        Monitor.Wait(_lock, RtmpClientSettings.SendIntervalMillis);
                    _wake = false;
                    _snapshot.Clear();
                    _snapshot.AddRange(_members);
                }
                foreach (var m in _snapshot)
                {
                    bool stays;
                    try
                    {
                        stays = m.Turn();
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // A defect in one output must not stop the others.
                        m.TurnFailed(e);
                        stays = false;
                    }
                    if (!stays)
                    {
                        lock (_lock)
                            _members.Remove(m);
                    }
                }
                _snapshot.Clear();
            }
        }
    }
}
