namespace Engine.Gcc;

/// <summary>
/// Decides when a REMB carries the estimate: at once when it drops below 97% of the last value sent
/// (the sender must back off now), otherwise at most every 200 ms when it changed and at least every
/// second (a lost REMB is repaired within a second).
/// </summary>
public struct RembScheduler
{
    /// <summary>A drop below this fraction of the last value sent is urgent.</summary>
    public const double ImmediateDropRatio = 0.97;

    /// <summary>Non-urgent changes are sent at most this often.</summary>
    public const long MinIntervalMicros = 200_000;

    /// <summary>The value is repeated at least this often.</summary>
    public const long MaxIntervalMicros = 1_000_000;

    private long _lastSentBps;
    private long _lastSentMicros;
    private bool _sent;

    public readonly long LastSentBps => _lastSentBps;

    /// <summary>True when <paramref name="estimateBps"/> should go out now; then it counts as sent.</summary>
    public bool ShouldSend(long nowMicros, long estimateBps)
    {
        bool send;
        if (!_sent)
            send = true;
        else if (estimateBps < ImmediateDropRatio * _lastSentBps)
            send = true;
        else
        {
            long since = nowMicros - _lastSentMicros;
            send = since >= MaxIntervalMicros || (since >= MinIntervalMicros && estimateBps != _lastSentBps);
        }
        if (send)
        {
            _sent = true;
            _lastSentBps = estimateBps;
            _lastSentMicros = nowMicros;
        }
        return send;
    }
}
