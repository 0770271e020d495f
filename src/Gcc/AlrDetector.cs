namespace Engine.Gcc;

/// <summary>
/// Application-limited region detection (libwebrtc's budget-based AlrDetector): a budget fills at
/// <see cref="UsageRatio"/> × the target and every byte sent spends it. When the sender leaves most
/// of it unspent (above <see cref="StartBudgetRatio"/> of a full window), it is not using the path:
/// the estimate cannot be confirmed by media, so the prober runs instead. It ends when the budget
/// falls under <see cref="StopBudgetRatio"/>.
/// </summary>
public sealed class AlrDetector
{
    /// <summary>libwebrtc's kDefaultAlrBandwidthUsageRatio: sending under 65% of the target is app-limited.</summary>
    public const double UsageRatio = 0.65;

    /// <summary>libwebrtc's start and stop budget levels (hysteresis so ALR does not flap).</summary>
    public const double StartBudgetRatio = 0.80, StopBudgetRatio = 0.50;

    /// <summary>The budget holds at most this much time at the budget rate (libwebrtc: 500 ms).</summary>
    public const long WindowMicros = 500_000;

    private long _targetBps;
    private double _budgetBytes;
    private long _lastMicros = long.MinValue;

    public AlrDetector(long targetBps) => _targetBps = Math.Max(1, targetBps);

    public bool InAlr { get; private set; }

    /// <summary>When the current application-limited period began (long.MinValue: not in one).</summary>
    public long AlrStartMicros { get; private set; } = long.MinValue;

    public void SetTarget(long targetBps) => _targetBps = Math.Max(1, targetBps);

    /// <summary>Bytes the application sent (media and retransmissions; padding is not the application's).</summary>
    public void OnBytesSent(int bytes, long nowMicros)
    {
        Refill(nowMicros);
        double max = MaxBudget();
        _budgetBytes = Math.Max(-max, _budgetBytes - bytes);
        Evaluate(nowMicros);
    }

    /// <summary>Time passes without sending (the budget fills); call it from the owner's timer.</summary>
    public void OnTime(long nowMicros)
    {
        Refill(nowMicros);
        Evaluate(nowMicros);
    }

    private void Refill(long nowMicros)
    {
        if (_lastMicros != long.MinValue && nowMicros > _lastMicros)
        {
            double add = _targetBps * UsageRatio * (nowMicros - _lastMicros) / 8_000_000.0;
            _budgetBytes = Math.Min(MaxBudget(), _budgetBytes + add);
        }
        if (_lastMicros == long.MinValue || nowMicros > _lastMicros)
            _lastMicros = nowMicros;
    }

    private void Evaluate(long nowMicros)
    {
        double ratio = _budgetBytes / MaxBudget();
        if (!InAlr && ratio > StartBudgetRatio)
        {
            InAlr = true;
            AlrStartMicros = nowMicros;
        }
        else if (InAlr && ratio < StopBudgetRatio)
        {
            InAlr = false;
            AlrStartMicros = long.MinValue;
        }
    }

    private double MaxBudget() => Math.Max(1.0, _targetBps * UsageRatio * WindowMicros / 8_000_000.0);
}
