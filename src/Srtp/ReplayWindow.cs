namespace Engine.Srtp;

/// <summary>
/// The highest accepted packet index of a stream and a 128-packet bitmap behind it
/// (RFC 3711 §3.3.2). For SRTP the highest index also carries ROC and s_l of Appendix A.
/// </summary>
internal struct ReplayWindow
{
    public const int Size = 128;

    private UInt128 _seen; // bit n: index Highest - n was accepted
    public ulong Highest { get; private set; }
    public bool Started { get; private set; }

    /// <summary>RFC 3711 Appendix A: the index of <paramref name="seq"/> closest to s_l.</summary>
    public readonly ulong EstimateRtpIndex(ushort seq)
    {
        // Until s_l passes 2^15 with ROC 0 there is nothing to roll back to (libsrtp does the same).
        if (!Started || Highest <= 32768) return seq;
        ulong roc = Highest >> 16;
        int sl = (int)(Highest & 0xFFFF);
        if (sl < 32768)
        {
            if (seq - sl > 32768) roc--;
        }
        else if (sl - 32768 > seq)
        {
            roc++;
        }
        return (roc << 16) | seq;
    }

    public readonly SrtpResult Check(ulong index)
    {
        if (!Started || index > Highest) return SrtpResult.Ok;
        ulong behind = Highest - index;
        if (behind >= Size) return SrtpResult.TooOld;
        return ((_seen >> (int)behind) & UInt128.One) != UInt128.Zero ? SrtpResult.Replay : SrtpResult.Ok;
    }

    /// <summary>Marks an authenticated index as seen.</summary>
    public void Accept(ulong index)
    {
        if (!Started)
        {
            Started = true;
            Highest = index;
            _seen = UInt128.One;
            return;
        }
        if (index > Highest)
        {
            ulong ahead = index - Highest;
            _seen = ahead >= Size ? UInt128.One : (_seen << (int)ahead) | UInt128.One;
            Highest = index;
            return;
        }
        ulong behind = Highest - index;
        if (behind < Size) _seen |= UInt128.One << (int)behind;
    }
}
