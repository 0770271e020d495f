namespace Engine.Rtp;

/// <summary>The a=extmap URIs, spelled as Chromium offers them (see the chromium156 fixture).</summary>
public static class RtpExtensionUris
{
    public const string AudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    public const string AbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string TransportSequenceNumber = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    public const string Mid = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string RtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    public const string RepairedRtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    public const string PlayoutDelay = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
    public const string TransmissionTimeOffset = "urn:ietf:params:rtp-hdrext:toffset";
    public const string VideoOrientation = "urn:3gpp:video-orientation";

    public static RtpExtensionKind KindOf(string uri) => uri switch
    {
        AudioLevel => RtpExtensionKind.AudioLevel,
        AbsSendTime => RtpExtensionKind.AbsSendTime,
        TransportSequenceNumber => RtpExtensionKind.TransportSequenceNumber,
        Mid => RtpExtensionKind.Mid,
        RtpStreamId => RtpExtensionKind.RtpStreamId,
        RepairedRtpStreamId => RtpExtensionKind.RepairedRtpStreamId,
        PlayoutDelay => RtpExtensionKind.PlayoutDelay,
        TransmissionTimeOffset => RtpExtensionKind.TransmissionTimeOffset,
        VideoOrientation => RtpExtensionKind.VideoOrientation,
        _ => RtpExtensionKind.Unknown,
    };

    public static string? UriOf(RtpExtensionKind kind) => kind switch
    {
        RtpExtensionKind.AudioLevel => AudioLevel,
        RtpExtensionKind.AbsSendTime => AbsSendTime,
        RtpExtensionKind.TransportSequenceNumber => TransportSequenceNumber,
        RtpExtensionKind.Mid => Mid,
        RtpExtensionKind.RtpStreamId => RtpStreamId,
        RtpExtensionKind.RepairedRtpStreamId => RepairedRtpStreamId,
        RtpExtensionKind.PlayoutDelay => PlayoutDelay,
        RtpExtensionKind.TransmissionTimeOffset => TransmissionTimeOffset,
        RtpExtensionKind.VideoOrientation => VideoOrientation,
        _ => null,
    };
}
