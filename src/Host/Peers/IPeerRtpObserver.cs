using Engine.Rtp;

namespace Engine.Host.Peers;

/// <summary>
/// Sees a <see cref="Peer"/>'s received RTP after SRTP and demux, on the thread that drives the
/// peer: a publisher taps and fans out what it receives. The packet is borrowed for the call.
/// </summary>
public interface IPeerRtpObserver
{
    /// <param name="receiveTrack">The receive track the packet was demuxed to.</param>
    /// <param name="rtp">The plain packet (an RTX packet already rebuilt as the original).</param>
    void OnRtpReceived(int receiveTrack, ReadOnlySpan<byte> rtp, in RtpPacketView packet, long nowMicros);
}
