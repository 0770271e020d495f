namespace Engine.Host.Sessions;

/// <summary>The answer to a <see cref="PublishRequest"/>: a session and its SDP answer, or an error with a reason.</summary>
public readonly record struct PublishOutcome(PublishError Error, string Reason, string? SessionId, string? AnswerSdp, string? RtmpUrl)
{
    public static PublishOutcome Fail(PublishError error, string reason) => new(error, reason, null, null, null);

    public static PublishOutcome Ok(string sessionId, string answerSdp, string? rtmpUrl) => new(PublishError.None, "", sessionId, answerSdp, rtmpUrl);

    public bool Succeeded => Error == PublishError.None;
}
