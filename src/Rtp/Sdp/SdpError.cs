namespace Engine.Rtp.Sdp;

/// <summary>Why an SDP (or a candidate line) was rejected: the 1-based line number (0 when the
/// problem is the input as a whole), the offending line (cut short) and what is wrong with it.</summary>
public readonly record struct SdpError(int Line, string Reason, string? LineText = null)
{
    public static SdpError None => new(0, "");

    public override string ToString()
    {
        if (Line <= 0) return Reason ?? "";
        return LineText is null ? $"line {Line}: {Reason}" : $"line {Line} ({LineText}): {Reason}";
    }
}
