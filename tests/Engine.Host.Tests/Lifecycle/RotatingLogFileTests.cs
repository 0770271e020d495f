using Engine.Host.Logging;

namespace Engine.Host.Tests.Lifecycle;

/// <summary>LOGDIR's files: one per UTC day, rotated by size within the day, a fixed number kept; a fake clock picks the day.</summary>
public sealed class RotatingLogFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "engine-logs-" + Guid.NewGuid().ToString("n")[..8]);
    private DateTime _now = new(2026, 12, 1, 23, 59, 58, DateTimeKind.Utc);

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string[] Files() => Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void EachUtcDayHasItsFile()
    {
        using var log = new RotatingLogFile(_dir, "engine", utcNow: () => _now);
        log.WriteLine("before midnight");
        log.Flush();
        Assert.Equal(Path.Combine(_dir, "engine-20261201.log"), log.CurrentPath);
        _now = _now.AddSeconds(3);
        log.WriteLine("after midnight");
        log.Flush();
        Assert.Equal(["engine-20261201.log", "engine-20261202.log"], Files());
        Assert.Equal("before midnight\n", File.ReadAllText(Path.Combine(_dir, "engine-20261201.log")));
        Assert.Equal("after midnight\n", File.ReadAllText(Path.Combine(_dir, "engine-20261202.log")));
        Assert.Equal("engine-debug-20261202.log", RotatingLogFile.FileName("engine-debug", _now));
    }

    [Fact]
    public void AFullFileRotatesToDotOneAndOnlyKeptOnesStay()
    {
        // 10-byte lines ("line NNNN" + \n), 25 bytes a file: two lines each.
        using var log = new RotatingLogFile(_dir, "engine", maxBytes: 25, kept: 2, utcNow: () => _now);
        for (int i = 0; i < 9; i++)
            log.WriteLine($"line {i:D4}");
        log.Flush();
        string day = "engine-20261201.log";
        Assert.Equal([day, day + ".1", day + ".2"], Files());
        // The newest lines in the live file, the older ones in .1 then .2; lines 0-2 went with the deleted .3.
        Assert.Equal("line 0008\n", File.ReadAllText(Path.Combine(_dir, day)));
        Assert.Equal("line 0006\nline 0007\n", File.ReadAllText(Path.Combine(_dir, day + ".1")));
        Assert.Equal("line 0004\nline 0005\n", File.ReadAllText(Path.Combine(_dir, day + ".2")));
        Assert.All(Directory.GetFiles(_dir), f => Assert.True(new FileInfo(f).Length <= 25, f));
    }

    [Fact]
    public void ARestartTheSameDayAppendsAndRotatesAFullFile()
    {
        using (var first = new RotatingLogFile(_dir, "engine", maxBytes: 25, kept: 3, utcNow: () => _now))
        {
            first.WriteLine("line 0001");
            first.WriteLine("line 0002");
        }
        using (var again = new RotatingLogFile(_dir, "engine", maxBytes: 25, kept: 3, utcNow: () => _now))
            again.WriteLine("line 0003"); // 20 + 10 > 25: the old file moves to .1
        string day = "engine-20261201.log";
        Assert.Equal([day, day + ".1"], Files());
        Assert.Equal("line 0001\nline 0002\n", File.ReadAllText(Path.Combine(_dir, day + ".1")));
        Assert.Equal("line 0003\n", File.ReadAllText(Path.Combine(_dir, day)));
    }

    [Fact]
    public void ALineLargerThanTheLimitStillGoesOut()
    {
        using var log = new RotatingLogFile(_dir, "engine", maxBytes: 8, kept: 1, utcNow: () => _now);
        log.WriteLine("a long line");
        log.WriteLine("another long line");
        log.Flush();
        Assert.Equal("another long line\n", File.ReadAllText(Path.Combine(_dir, "engine-20261201.log")));
        Assert.Equal("a long line\n", File.ReadAllText(Path.Combine(_dir, "engine-20261201.log.1")));
    }
}
