namespace Engine.Host.Signaling;

/// <summary>
/// The legacy gateway's <c>errno</c> values (0-16). The numbers our users' clients test for are
/// fixed by docs/LEGACY-GATEWAY.md (0, 6, 7, 15, 16); the rest keep the legacy range.
/// </summary>
public enum LegacyErrno
{
    Ok = 0,
    BadJson = 1,
    UnknownRoute = 2,
    MissingParameter = 3,
    BadSdp = 4,
    NotLoggedIn = 5,
    NoFreeSession = 6,
    NoCall = 7,
    CallExists = 8,
    StreamBusy = 9,
    MediaFailed = 10,
    LoginRejected = 11,
    HookFailed = 12,
    NotFound = 13,
    Internal = 14,
    HookQueueFull = 15,
    SyncPending = 16,
}
