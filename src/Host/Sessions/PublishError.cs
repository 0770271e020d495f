using Engine.Host.Signaling;

namespace Engine.Host.Sessions;

/// <summary>Why a publish was refused; each maps to an HTTP status for WHIP and an errno for the legacy route.</summary>
public enum PublishError
{
    None,
    BadSdp,
    UnsupportedOffer,
    NoFreeSession,
    StreamBusy,
    /// <summary>Playback of a stream nobody publishes here.</summary>
    NoSuchStream,
    Internal,
    /// <summary>The server is stopping (SIGTERM): nothing new is accepted.</summary>
    ShuttingDown,
}

public static class PublishErrorMapping
{
    public static int HttpStatus(this PublishError e) => e switch
    {
        PublishError.None => 201,
        PublishError.BadSdp or PublishError.UnsupportedOffer => 400,
        PublishError.NoFreeSession or PublishError.ShuttingDown => 503,
        PublishError.StreamBusy => 409,
        PublishError.NoSuchStream => 404,
        _ => 500,
    };

    public static LegacyErrno Errno(this PublishError e) => e switch
    {
        PublishError.None => LegacyErrno.Ok,
        PublishError.BadSdp or PublishError.UnsupportedOffer => LegacyErrno.BadSdp,
        PublishError.NoFreeSession or PublishError.ShuttingDown => LegacyErrno.NoFreeSession,
        PublishError.StreamBusy => LegacyErrno.StreamBusy,
        PublishError.NoSuchStream => LegacyErrno.NotFound,
        _ => LegacyErrno.Internal,
    };
}
