namespace Engine.Rtp;

/// <summary>
/// Extends 16-bit RTP sequence numbers (RFC 3550 §A.1) to a 64-bit <c>SeqNo</c>. Each number is
/// placed within ±32768 of the highest seen so far, so reordering across a wrap lands on the
/// right cycle. The first value seen is returned unchanged.
/// </summary>
public struct SeqNoUnwrapper
{
    private long _highest;
    private bool _started;

    public long Unwrap(ushort sequenceNumber)
    {
        if (!_started)
        {
            _started = true;
            _highest = sequenceNumber;
            return sequenceNumber;
        }
        long value = _highest + (short)(sequenceNumber - (ushort)_highest);
        if (value > _highest)
            _highest = value;
        return value;
    }

    /// <summary>The highest unwrapped value seen, or -1 before the first.</summary>
    public readonly long Highest => _started ? _highest : -1;
}
