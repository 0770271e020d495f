using System.Diagnostics;
using Engine.Codec;

namespace Engine.Host.Output;

/// <summary>
/// Shared writer threads for outputs whose writer work never blocks. With our RTMP client a write
/// appends to the connection's buffer and remuxed video is written on the media thread, so what is
/// left for the writer is the Opus to AAC transcode. Up to one worker per core (at most 8): every
/// <see cref="RtmpClientSettings.SendIntervalMillis"/> a worker gives each output it holds a turn.
/// A new output goes to the first worker that stays under half a core with it (each worker
/// measures what a member costs it), else to the least loaded: fewer, busier workers cost less CPU
/// than spread ones. An output whose work turns heavy or blocking (a video transcode, its final
/// close) leaves for its own thread.
/// </summary>
public sealed class OutputWorkers
{
    /// <summary>
    /// What one member is assumed to cost a worker (share of a core) until the worker has measured it:
    /// about what an Opus to AAC transcode cost here (0.2 CPU-s per 20 s).
    /// </summary>
    public const double DefaultMemberLoad = 0.01;
    private const double FillLoad = 0.5;

    public static readonly OutputWorkers Shared = new(Math.Clamp(Environment.ProcessorCount, 1, 8), "flv-writers");

    private readonly Worker[] _workers;

    public OutputWorkers(int workers, string name, double defaultMemberLoad = DefaultMemberLoad)
    {
        _workers = new Worker[workers];
        for (int i = 0; i < workers; i++)
            _workers[i] = new Worker($"{name}-{i}", defaultMemberLoad);
    }

    /// <summary>Places the member (see the class); returns its worker's wake-up.</summary>
    public Action Add(IOutputWorkerMember member)
    {
        Worker? pick = null, least = _workers[0];
        foreach (var w in _workers)
        {
            if (pick == null && w.Load(w.Count + 1) <= FillLoad)
                pick = w;
            if (w.Load(w.Count) < least.Load(least.Count))
                least = w;
        }
        pick ??= least;
        pick.Add(member);
        return pick.Wake;
    }

    /// <summary>Members on each worker.</summary>
    public int[] Counts => _workers.Select(w => w.Count).ToArray();

    private sealed class Worker
    {
        private readonly string _name;
        private readonly List<IOutputWorkerMember> _members = new();
        private readonly List<IOutputWorkerMember> _snapshot = new();
        private readonly object _lock = new();
        private Thread? _thread;
        private bool _wake;
        private double _memberLoad; // share of a core per member: measured, smoothed

        public Worker(string name, double memberLoad)
        {
            _name = name;
            _memberLoad = memberLoad;
        }

        public int Count
        {
            get { lock (_lock) return _members.Count; }
        }

        /// <summary>The share of a core this worker would use with <paramref name="members"/> members.</summary>
        public double Load(int members) => members * Volatile.Read(ref _memberLoad);

        public void Add(IOutputWorkerMember member)
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
            long due = long.MinValue;
            while (true)
            {
                int interval = RtmpClientSettings.SendIntervalMillis;
                long now;
                lock (_lock)
                {
                    while (_members.Count == 0)
                    {
                        Monitor.Wait(_lock);
                        due = long.MinValue;
                    }
                    // A turn every interval from the last one's start, not an interval after its end: a long
                    // sweep would otherwise stretch every output's batch (and its queue's buffers in flight).
                    now = OutputClock.NowMillis();
                    if (due == long.MinValue || now - due > interval)
                        due = now + interval; // the first turn, or one more than a whole turn late: start over
                    for (int i = 0; i < 4 && !_wake && now < due; i++)
                    {
                        Monitor.Wait(_lock, (int)(due - now));
                        now = OutputClock.NowMillis();
                    }
                    _wake = false;
                    if (now >= due)
                        due += interval; // a wake-up's turn comes early and leaves the next one where it was
                    _snapshot.Clear();
                    _snapshot.AddRange(_members);
                }
                long start = Stopwatch.GetTimestamp();
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
                // Wall time: a preempted sweep counts as busy, which errs on the side of spreading.
                double share = Stopwatch.GetElapsedTime(start).TotalMilliseconds / interval / _snapshot.Count;
                Volatile.Write(ref _memberLoad, _memberLoad * 0.75 + share * 0.25);
                _snapshot.Clear();
            }
        }
    }
}
