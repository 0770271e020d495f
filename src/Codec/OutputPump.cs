using System.Diagnostics;

namespace Engine.Codec;

/// <summary>
/// The threads that write every <see cref="FlvOutput"/>: a few workers (one per core) wake every
/// batch interval, or early when a queue backs up, and drain each output that has frames, one
/// worker per output at a time. A thread per output woke 25 times a second each; at 50 streams that
/// was most of the kernel time of the remux path. An output blocked in I/O (a stalled RTMP server,
/// a slow connect) holds its worker until its timeout; a supervisor adds a worker for each one held
/// longer than <see cref="StuckMillis"/>, so the others keep flowing, and the extra workers leave
/// once they are not needed.
/// </summary>
internal sealed class OutputPump
{
    public static readonly OutputPump Shared = new(Math.Clamp(Environment.ProcessorCount, 1, 8), batchMillis: 40);

    private const int StuckMillis = 250;
    private const int MaxWorkers = 256;

    private readonly int _baseWorkers, _batchMillis;
    private readonly object _lock = new();
    private readonly AutoResetEvent _wake = new(false);
    private FlvOutput[] _outputs = [];
    private readonly List<Worker> _workers = new();
    private Timer? _supervisor;
    private int _nextId;

    private sealed class Worker
    {
        public long BusySinceTicks; // Stopwatch ticks while inside an output, else 0
        public bool Leaving;
    }

    public OutputPump(int baseWorkers, int batchMillis)
    {
        _baseWorkers = baseWorkers;
        _batchMillis = batchMillis;
    }

    public int WorkerCount
    {
        get { lock (_lock) return _workers.Count; }
    }

    public void Register(FlvOutput output)
    {
        lock (_lock)
        {
            _outputs = [.. _outputs, output];
            while (_workers.Count < _baseWorkers)
                StartWorker();
            _supervisor ??= new Timer(_ => Supervise(), null, StuckMillis, StuckMillis);
        }
        _wake.Set();
    }

    /// <summary>Frames are waiting in a backed-up queue, or an output was told to finish: do not wait for the tick.</summary>
    public void Wake() => _wake.Set();

    private void Unregister(FlvOutput output)
    {
        lock (_lock)
        {
            _outputs = _outputs.Where(o => o != output).ToArray();
            if (_outputs.Length == 0)
            {
                _supervisor?.Dispose();
                _supervisor = null;
            }
        }
    }

    private void StartWorker()
    {
        var worker = new Worker();
        _workers.Add(worker);
        new Thread(() => Run(worker)) { IsBackground = true, Name = "flv-pump " + _nextId++ }.Start();
    }

    private void Run(Worker worker)
    {
        while (true)
        {
            FlvOutput[] outputs;
            lock (_lock)
            {
                if (worker.Leaving || _outputs.Length == 0)
                {
                    // No output left (or this extra worker is no longer needed): the next Register starts workers again.
                    _workers.Remove(worker);
                    return;
                }
                outputs = _outputs;
            }
            foreach (var output in outputs)
            {
                if (!output.TryClaim())
                    continue;
                Volatile.Write(ref worker.BusySinceTicks, Stopwatch.GetTimestamp());
                bool finished;
                try
                {
                    finished = output.Pump();
                }
                catch (Exception e)
                {
                    // Pump handles its own failures; anything else must not take the worker (and the
                    // process) down with it: that output is given up, the others go on.
                    output.Abandon(e.Message);
                    finished = true;
                }
                finally
                {
                    Volatile.Write(ref worker.BusySinceTicks, 0);
                    output.Unclaim();
                }
                if (finished)
                    Unregister(output);
            }
            // One wake-up per batch interval for all outputs; a backlog or a finishing output wakes one worker early.
            _wake.WaitOne(_batchMillis);
        }
    }

    // Every StuckMillis while outputs exist: a worker held that long by one output is replaced, so
    // the unheld workers stay at the base count; surplus workers leave.
    private void Supervise()
    {
        long now = Stopwatch.GetTimestamp();
        long stuckTicks = Stopwatch.Frequency * StuckMillis / 1000;
        lock (_lock)
        {
            int stuck = 0;
            foreach (var w in _workers)
            {
                long since = Volatile.Read(ref w.BusySinceTicks);
                if (since != 0 && now - since > stuckTicks)
                    stuck++;
            }
            int free = _workers.Count(w => !w.Leaving) - stuck;
            if (free < _baseWorkers && _workers.Count < MaxWorkers && _outputs.Length > 0)
                StartWorker();
            else if (free > _baseWorkers)
            {
                // Ask one idle worker to leave (it finishes its round first).
                var idle = _workers.FirstOrDefault(w => !w.Leaving && Volatile.Read(ref w.BusySinceTicks) == 0);
                if (idle != null)
                    idle.Leaving = true;
            }
        }
    }
}
