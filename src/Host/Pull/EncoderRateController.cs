namespace Engine.Host.Pull;

/// <summary>
/// Issue 16: the bitrate a pull's transcoder encodes at, from its players' send-side estimates
/// (GCC targets, which cover all their RTP): the lowest player target less the audio, within
/// [<see cref="FloorBps"/>, the configured rate]. A change inside a 10 % dead band is ignored;
/// a decrease is applied once it has held <see cref="DecreaseHoldMicros"/> (a single dip is not
/// worth an encoder retune), at once when it goes below 70 % of the current rate (congestion:
/// every frame at the old rate adds to the queue); an increase waits a second after the last
/// change, so the estimate the encoder's own output probed is what raises it next.
/// Sans-IO: the encode thread gives it the time and the players' figure, and applies the result.
/// </summary>
internal sealed class EncoderRateController
{
    public const long FloorBps = 150_000;
    public const double DeadBand = 0.10, ImmediateDecreaseRatio = 0.70;
    public const long DecreaseHoldMicros = 200_000, IncreaseIntervalMicros = 1_000_000;

    private long _decreaseSince = long.MinValue, _lastChange;

    public EncoderRateController(long configuredBps, long nowMicros)
    {
        ConfiguredBps = configuredBps;
        TargetBps = configuredBps;
        _lastChange = nowMicros;
    }

    /// <summary>The cap: the rate the transcoder was configured with.</summary>
    public long ConfiguredBps { get; }
    /// <summary>What the encoder should encode at now.</summary>
    public long TargetBps { get; private set; }
    /// <summary>What the players' figure asks for (before the dead band and timing), for status pages.</summary>
    public long WantedBps { get; private set; }
    public long Decreases { get; private set; }
    public long Increases { get; private set; }

    /// <summary>What the players ask of this encoder: the lowest target less the audio, floored and capped; the cap with no figure.</summary>
    public long Wanted(long playersMinBps, long audioBps) =>
        playersMinBps < 0 ? ConfiguredBps : Math.Clamp(playersMinBps - Math.Max(0, audioBps), Math.Min(FloorBps, ConfiguredBps), ConfiguredBps);

    /// <param name="playersMinBps">The lowest target of the attached players this encoder feeds; negative when none has one yet.</param>
    /// <param name="audioBps">What the players' audio takes of their target.</param>
    /// <returns>The encoder's target now (<see cref="TargetBps"/>).</returns>
    public long Update(long nowMicros, long playersMinBps, long audioBps)
    {
        long wanted = Wanted(playersMinBps, audioBps);
        WantedBps = wanted;
        long current = TargetBps;
        if (wanted <= current * (1 - DeadBand))
        {
            if (wanted < current * ImmediateDecreaseRatio)
                return Apply(wanted, nowMicros, increase: false);
            if (_decreaseSince == long.MinValue)
                _decreaseSince = nowMicros;
            if (nowMicros - _decreaseSince >= DecreaseHoldMicros)
                return Apply(wanted, nowMicros, increase: false);
            return current;
        }
        _decreaseSince = long.MinValue;
        // Back to the cap even from inside the band: nothing limits the players any more.
        bool up = wanted >= current * (1 + DeadBand) || (wanted == ConfiguredBps && current < ConfiguredBps);
        if (up && nowMicros - _lastChange >= IncreaseIntervalMicros)
            return Apply(wanted, nowMicros, increase: true);
        return current;
    }

    private long Apply(long bps, long nowMicros, bool increase)
    {
        TargetBps = bps;
        _lastChange = nowMicros;
        _decreaseSince = long.MinValue;
        if (increase)
            Increases++;
        else
            Decreases++;
        return bps;
    }
}
