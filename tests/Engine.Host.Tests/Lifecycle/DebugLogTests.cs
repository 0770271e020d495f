using Engine.Host.Logging;

namespace Engine.Host.Tests.Lifecycle;

/// <summary>DEBUGMODE's full debug log beside the main log, which keeps LOGLEVEL. The log is global: own lines only, restored after.</summary>
[Collection("log")]
public sealed class DebugLogTests
{
    private sealed class Lines : StringWriter
    {
        public override void WriteLine(string? value)
        {
            lock (this) base.WriteLine(value);
        }
        public string[] Mine(string tag)
        {
            lock (this) return ToString().Split('\n').Where(l => l.Contains(tag)).ToArray();
        }
    }

    [Fact]
    public void TheDebugWriterGetsEveryLineAndTheMainOneItsLevel()
    {
        var main = new Lines();
        var debug = new Lines();
        var level = Log.Level;
        Log.SetWriter(main);
        Log.Level = LogLevel.Notice;
        try
        {
            string tag = Guid.NewGuid().ToString("N");
            Assert.False(Log.IsEnabled(LogLevel.Debug));
            Log.SetDebugWriter(debug);
            Assert.True(Log.HasDebugWriter);
            Assert.True(Log.IsEnabled(LogLevel.Debug));
            Log.Debug($"{tag} debug");
            Log.Info($"{tag} info");
            Log.Notice($"{tag} notice");
            Log.Error($"{tag} error");
            Assert.True(Log.Flush(TimeSpan.FromSeconds(10)));
            Assert.Equal(["notice", "error"], main.Mine(tag).Select(l => l.TrimEnd('\r').Split(' ')[^1]));
            Assert.Equal(["debug", "info", "notice", "error"], debug.Mine(tag).Select(l => l.TrimEnd('\r').Split(' ')[^1]));
            Assert.Contains(" DEBUG ", debug.Mine(tag)[0]);

            Log.SetDebugWriter(null);
            Assert.False(Log.IsEnabled(LogLevel.Debug));
            Log.Debug($"{tag} after");
            Assert.True(Log.Flush(TimeSpan.FromSeconds(10)));
            Assert.Equal(4, debug.Mine(tag).Length);
        }
        finally
        {
            Log.SetDebugWriter(null);
            Log.Level = level;
            Log.SetWriter(Console.Error);
        }
    }
}
