namespace Engine.Host.Metrics;

/// <summary>The counters <see cref="MediaTotals"/> sums; each ...Audio member is followed by its ...Video one.</summary>
internal enum MediaTotal
{
    InPacketsAudio, InPacketsVideo,
    InBytesAudio, InBytesVideo,
    InFramesAudio, InFramesVideo,
    OutPacketsAudio, OutPacketsVideo,
    OutBytesAudio, OutBytesVideo,

    PublishRtp, PublishRtx, PublishRtxPadding, PublishRtcpIn, PublishRtcpOut, IceChecks,
    NacksSent, NackRecovered, PlisSent, FirsSent, Keyframes, SenderReportsRejected,
    DroppedWrongPath, DroppedUnknown, DroppedMalformed, DroppedUnknownSsrc, DroppedSecondSsrc, DroppedRtxBeforeMedia,
    SrtpAuthFailed, SrtpReplayed, SrtpOther, PublishSimulatedLoss, IceBadIntegrity, IceWrongUsername, DtlsRecordsDropped, TransmitDropped,

    PlayRtp, PlayRtcpOut, PlayRtcpIn, NacksReceived, Retransmissions, PlisReceived, FirsReceived,
    WritesRefused, PlayDroppedBeforeKeyframe, PlaySrtpFailures, PlaySimulatedLoss,

    PullVideoFramesSent, PullAudioFramesSent, PullDroppedBeforeKeyframe, PullReplays,

    OutputVideoFrames, OutputAudioFrames, OutputFramesDropped, OutputGopsDropped, OutputReconnects,

    Count,
}
