namespace Engine.Host.Logging;

/// <summary>
/// The process log: one line per event, "time level message", to stderr or a file. Callers test
/// <see cref="IsEnabled"/> before building a message on any path that repeats.
/// </summary>
public static class Log
{
    private static readonly Lock Gate = new();
    private static TextWriter _writer = Console.Error;

    public static LogLevel Level { get; set; } = LogLevel.Notice;

    public static bool IsEnabled(LogLevel level) => level != LogLevel.Off && level <= Level;

    /// <summary>Sends the log to <paramref name="writer"/> (a file under LOGDIR, or a test's StringWriter).</summary>
    public static void SetWriter(TextWriter writer)
    {
        lock (Gate)
            _writer = writer;
    }

    public static void Write(LogLevel level, string message)
    {
        if (!IsEnabled(level))
            return;
        string line = $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss.fff} {Name(level)} {message}";
        lock (Gate)
        {
            try
            {
                _writer.WriteLine(line);
                _writer.Flush();
            }
            catch (IOException)
            {
                // A full disk must not stop the media path.
            }
        }
    }

    public static void Error(string message) => Write(LogLevel.Error, message);
    public static void Warn(string message) => Write(LogLevel.Warn, message);
    public static void Notice(string message) => Write(LogLevel.Notice, message);
    public static void Info(string message) => Write(LogLevel.Info, message);
    public static void Debug(string message) => Write(LogLevel.Debug, message);

    private static string Name(LogLevel level) => level switch
    {
        LogLevel.Alert => "ALERT",
        LogLevel.Error => "ERROR",
        LogLevel.Warn => "WARN",
        LogLevel.Notice => "NOTICE",
        LogLevel.Info => "INFO",
        _ => "DEBUG",
    };
}
