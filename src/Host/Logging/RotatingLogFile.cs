using System.Text;

namespace Engine.Host.Logging;

/// <summary>
/// A log file per UTC day, <c>{prefix}-YYYYMMDD.log</c>, rotated by size within the day: past
/// <see cref="MaxBytes"/> the file becomes <c>.1</c> (the older ones <c>.2</c> and up, at most
/// <see cref="Kept"/> of them; the oldest is deleted) and a new one starts. Earlier days' files are
/// left for the operator. Written by the log thread only; an I/O error is left to the caller.
/// </summary>
public sealed class RotatingLogFile : TextWriter
{
    public const long DefaultMaxBytes = 100L * 1024 * 1024;
    public const int DefaultKept = 5;

    private readonly string _directory;
    private readonly string _prefix;
    private readonly Func<DateTime> _utcNow;
    private StreamWriter? _file;
    private string? _path;
    private DateTime _day;
    private long _size;

    /// <param name="utcNow">The clock that picks the day (tests pass a fake one).</param>
    public RotatingLogFile(string directory, string prefix, long maxBytes = DefaultMaxBytes, int kept = DefaultKept, Func<DateTime>? utcNow = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kept, 0);
        _directory = directory;
        _prefix = prefix;
        MaxBytes = maxBytes;
        Kept = kept;
        _utcNow = utcNow ?? (() => DateTime.UtcNow);
        Directory.CreateDirectory(directory);
    }

    public long MaxBytes { get; }
    public int Kept { get; }
    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>The file written now (null before the first line).</summary>
    public string? CurrentPath => _path;

    public static string FileName(string prefix, DateTime utc) => $"{prefix}-{utc:yyyyMMdd}.log";

    public override void WriteLine(string? value)
    {
        value ??= "";
        long bytes = Encoding.UTF8.GetByteCount(value) + 1;
        var now = _utcNow();
        if (_file == null || now.Date != _day)
            Open(now);
        if (_size > 0 && _size + bytes > MaxBytes)
            Rotate();
        _file!.Write(value);
        _file.Write('\n');
        _size += bytes;
    }

    /// <summary>Whole lines only (the size check and the day are per line).</summary>
    public override void Write(char value) => throw new NotSupportedException("RotatingLogFile takes whole lines: WriteLine");

    public override void Flush() => _file?.Flush();

    private void Open(DateTime now)
    {
        _file?.Dispose();
        _day = now.Date;
        _path = Path.Combine(_directory, FileName(_prefix, now));
        var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        _size = stream.Length;
        _file = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = false }; // a restart the same day appends
    }

    private void Rotate()
    {
        _file!.Dispose();
        _file = null;
        string path = _path!;
        if (Kept == 0)
            File.Delete(path);
        else
        {
            File.Delete($"{path}.{Kept}");
            for (int i = Kept - 1; i >= 1; i--)
                if (File.Exists($"{path}.{i}"))
                    File.Move($"{path}.{i}", $"{path}.{i + 1}");
            File.Move(path, path + ".1");
        }
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        _size = stream.Length;
        _file = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = false };
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file?.Dispose();
            _file = null;
        }
        base.Dispose(disposing);
    }
}
