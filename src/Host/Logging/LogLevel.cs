namespace Engine.Host.Logging;

/// <summary>The legacy [LOG] LOGLEVEL scale: 0 off, 1 alert, 2 error, 3 warn, 4 notice, 5 info, 6 debug.</summary>
public enum LogLevel
{
    Off = 0,
    Alert = 1,
    Error = 2,
    Warn = 3,
    Notice = 4,
    Info = 5,
    Debug = 6,
}
