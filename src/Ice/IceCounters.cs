namespace Engine.Ice;

/// <summary>What an <see cref="IceLiteAgent"/> saw, by outcome.</summary>
public sealed class IceCounters
{
    private readonly long[] _byResult = new long[Enum.GetValues<IceCheckResult>().Length];

    public long PathSwitches { get; internal set; }

    public long this[IceCheckResult result] => _byResult[(int)result];

    internal void Add(IceCheckResult result) => _byResult[(int)result]++;
}
