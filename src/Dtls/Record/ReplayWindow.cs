namespace Engine.Dtls.Record;

/// <summary>RFC 6347 §4.1.2.6 sliding anti-replay window of 64 records per epoch.</summary>
internal struct ReplayWindow
{
    private ulong _top;
    private ulong _bits;
    private bool _any;

    public readonly bool IsFresh(ulong sequence)
    {
        if (!_any || sequence > _top) return true;
        ulong age = _top - sequence;
        return age < 64 && (_bits & (1UL << (int)age)) == 0;
    }

    /// <summary>Only call after the record authenticated, so forged records cannot move the window.</summary>
    public void Mark(ulong sequence)
    {
        if (!_any)
        {
            _any = true;
            _top = sequence;
            _bits = 1;
        }
        else if (sequence > _top)
        {
            ulong shift = sequence - _top;
            _bits = shift >= 64 ? 1 : (_bits << (int)shift) | 1;
            _top = sequence;
        }
        else
        {
            _bits |= 1UL << (int)(_top - sequence);
        }
    }

    public void Reset() => this = default;
}
