namespace Engine.Host.Tests.Hooks;

/// <summary>The system clock, except that timers fire at once and their requested delays are recorded (the back-off waits).</summary>
internal sealed class RecordingTime : TimeProvider
{
    public System.Collections.Concurrent.ConcurrentQueue<TimeSpan> Delays { get; } = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Delays.Enqueue(dueTime);
        return System.CreateTimer(callback, state, TimeSpan.Zero, period);
    }
}
