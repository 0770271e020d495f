namespace Engine.Host.Tests.Hooks;

/// <summary>A clock that moves only when told: timers fire from <see cref="Advance"/>.</summary>
internal sealed class ManualTime : TimeProvider
{
    private readonly object _lock = new();
    private readonly List<Timer> _timers = new();
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() { lock (_lock) return _ticks; }

    public int PendingTimers { get { lock (_lock) return _timers.Count(t => t.Due != null); } }

    public void Advance(TimeSpan by)
    {
        List<Timer> due;
        lock (_lock)
        {
            _ticks += by.Ticks;
            due = _timers.Where(t => t.Due <= _ticks).ToList();
            foreach (var t in due)
                t.Due = null;
        }
        foreach (var t in due)
            t.Callback(t.State);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this, callback, state);
        lock (_lock)
        {
            timer.Due = _ticks + dueTime.Ticks;
            _timers.Add(timer);
        }
        return timer;
    }

    private sealed class Timer(ManualTime owner, TimerCallback callback, object? state) : ITimer
    {
        public long? Due;
        public TimerCallback Callback => callback;
        public object? State => state;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock) Due = owner._ticks + dueTime.Ticks;
            return true;
        }

        public void Dispose()
        {
            lock (owner._lock) owner._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
