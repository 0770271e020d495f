namespace Engine.Srtp;

/// <summary>Outcome of a protect or unprotect call. Everything but <see cref="Ok"/> means the packet is dropped.</summary>
public enum SrtpResult
{
    Ok,
    /// <summary>The tag did not verify; the packet was not accepted and no state changed.</summary>
    AuthFailed,
    /// <summary>The packet index was already accepted once (RFC 3711 §3.3.2).</summary>
    Replay,
    /// <summary>The packet index is behind the replay window.</summary>
    TooOld,
    /// <summary>Not a parseable RTP/RTCP packet, or shorter than its header and tag.</summary>
    Malformed,
    /// <summary>The caller's buffer has no room for the tag (and SRTCP index).</summary>
    BufferTooSmall,
    /// <summary>A new SSRC arrived while the per-session SSRC table was full.</summary>
    TooManySsrcs,
}
