using System.Threading.Channels;

namespace Engine.Host.Logging;

/// <summary>
/// The process log: one line per event, "time level message", to stderr or a file at
/// <see cref="Level"/>, and every line (debug included) to the debug writer when one is set
/// (<c>[LOG] DEBUGMODE=1</c>). A write only
/// queues the line (bounded; a full queue drops and counts it); one background thread does the
/// file I/O, so a slow disk or a blocked stderr never stalls the media thread. Callers test
/// <see cref="IsEnabled"/> before building a message on any path that repeats.
/// </summary>
public static class Log
{
    public const int QueueCapacity = 8192;

    private static readonly Channel<(LogLevel Level, string Line)> Lines = Channel.CreateBounded<(LogLevel, string)>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private static readonly Lock Gate = new();
    private static TextWriter _writer = Console.Error;
    private static TextWriter? _debugWriter;
    private static volatile bool _hasDebugWriter;
    private static Thread? _thread;
    private static long _queued, _written, _dropped;

    public static LogLevel Level { get; set; } = LogLevel.Notice;

    /// <summary>Lines dropped because the queue was full.</summary>
    public static long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Whether the full debug log is being written (<see cref="SetDebugWriter"/>).</summary>
    public static bool HasDebugWriter => _hasDebugWriter;

    public static bool IsEnabled(LogLevel level) => level != LogLevel.Off && (level <= Level || _hasDebugWriter);

    /// <summary>Sends the log to <paramref name="writer"/> (a file under LOGDIR, or a test's writer), after what is queued.</summary>
    public static void SetWriter(TextWriter writer)
    {
        Flush(TimeSpan.FromSeconds(2));
        lock (Gate)
            _writer = writer;
    }

    /// <summary>
    /// Every line, whatever <see cref="Level"/>, also goes to <paramref name="writer"/> (the full
    /// debug log); null stops that. The writer replaced is disposed, after what is queued.
    /// </summary>
    public static void SetDebugWriter(TextWriter? writer)
    {
        Flush(TimeSpan.FromSeconds(2));
        TextWriter? old;
        lock (Gate)
        {
            old = _debugWriter;
            _debugWriter = writer;
            _hasDebugWriter = writer != null;
        }
        if (!ReferenceEquals(old, writer))
            old?.Dispose();
    }

    public static void Write(LogLevel level, string message)
    {
        if (!IsEnabled(level))
            return;
        EnsureStarted();
        string line = $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss.fff} {Name(level)} {message}";
        if (Lines.Writer.TryWrite((level, line)))
            Interlocked.Increment(ref _queued);
        else
            Interlocked.Increment(ref _dropped);
    }

    /// <summary>Waits (bounded) until every queued line is written: at exit, and in tests.</summary>
    public static bool Flush(TimeSpan timeout)
    {
        long target = Interlocked.Read(ref _queued);
        var deadline = DateTime.UtcNow + timeout;
        while (Interlocked.Read(ref _written) < target)
        {
            if (DateTime.UtcNow >= deadline)
                return false;
            Thread.Sleep(1);
        }
        return true;
    }

    public static void Error(string message) => Write(LogLevel.Error, message);
    public static void Warn(string message) => Write(LogLevel.Warn, message);
    public static void Notice(string message) => Write(LogLevel.Notice, message);
    public static void Info(string message) => Write(LogLevel.Info, message);
    public static void Debug(string message) => Write(LogLevel.Debug, message);

    private static void EnsureStarted()
    {
        if (Volatile.Read(ref _thread) != null)
            return;
        lock (Gate)
        {
            if (_thread != null)
                return;
            var t = new Thread(Drain) { IsBackground = true, Name = "log" };
            t.Start();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Flush(TimeSpan.FromSeconds(2));
            Volatile.Write(ref _thread, t);
        }
    }

    private static void Drain()
    {
        var reader = Lines.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            lock (Gate)
            {
                // One flush per burst: the queue is drained, then the writer flushed once.
                long lines = 0;
                var level = Level;
                while (reader.TryRead(out var entry))
                {
                    if (entry.Level <= level)
                        WriteTo(_writer, entry.Line);
                    if (_debugWriter != null)
                        WriteTo(_debugWriter, entry.Line);
                    lines++;
                }
                FlushWriter(_writer);
                if (_debugWriter != null)
                    FlushWriter(_debugWriter);
                Interlocked.Add(ref _written, lines);
            }
        }
    }

    private static void WriteTo(TextWriter writer, string line)
    {
        try
        {
            writer.WriteLine(line);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // A full disk (or a log folder gone) must not stop the log thread.
        }
    }

    private static void FlushWriter(TextWriter writer)
    {
        try
        {
            writer.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
        }
    }

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
