namespace Engine.Srtp;

/// <summary>Per-session counts of accepted packets and of every reason a packet was dropped.</summary>
public sealed class SrtpCounters
{
    public long RtpProtected { get; internal set; }
    public long RtpUnprotected { get; internal set; }
    public long RtcpProtected { get; internal set; }
    public long RtcpUnprotected { get; internal set; }
    public long AuthFailed { get; internal set; }
    public long Replayed { get; internal set; }
    public long TooOld { get; internal set; }
    public long Malformed { get; internal set; }
    public long BufferTooSmall { get; internal set; }
    public long TooManySsrcs { get; internal set; }

    internal SrtpResult Count(SrtpResult result)
    {
        switch (result)
        {
            case SrtpResult.AuthFailed: AuthFailed++; break;
            case SrtpResult.Replay: Replayed++; break;
            case SrtpResult.TooOld: TooOld++; break;
            case SrtpResult.Malformed: Malformed++; break;
            case SrtpResult.BufferTooSmall: BufferTooSmall++; break;
            case SrtpResult.TooManySsrcs: TooManySsrcs++; break;
        }
        return result;
    }
}
