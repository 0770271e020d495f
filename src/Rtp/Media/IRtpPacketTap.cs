namespace Engine.Rtp.Media;

/// <summary>
/// Optionally implemented by a sink that wants the session's decrypted RTP packets as they arrive
/// (before reordering), e.g. to forward plain RTP to a local process. Called on the media thread.
/// </summary>
public interface IRtpPacketTap
{
    void OnRtpPacket(int trackIndex, ReadOnlySpan<byte> rtpPacket);
}
