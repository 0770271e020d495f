using Engine.Host.Logging;

namespace Engine.Host.Tests;

/// <summary>The log is global: these tests look only for their own lines, and restore stderr.</summary>
[Collection("log")]
public sealed class LogTests
{
    /// <summary>A writer whose every write waits for a gate, like a stalled disk or a full pipe.</summary>
    private sealed class StalledWriter : StringWriter
    {
        public readonly ManualResetEventSlim Gate = new();
        public override void WriteLine(string? value)
        {
            Gate.Wait(TimeSpan.FromSeconds(10));
            lock (this) base.WriteLine(value);
        }
        public string Text { get { lock (this) return ToString(); } }
    }

    [Fact]
    public void AWriteReturnsWhileTheWriterIsStalled_AndEveryLineArrivesInOrder()
    {
        var writer = new StalledWriter();
        Log.SetWriter(writer);
        try
        {
            string tag = Guid.NewGuid().ToString("N");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < 100; i++)
                Log.Error($"{tag} {i}");
            // Synchronous writing would wait here until the 10 s gate times out.
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"writes took {sw.Elapsed}");
            Assert.DoesNotContain(tag, writer.Text);
            writer.Gate.Set();
            Assert.True(Log.Flush(TimeSpan.FromSeconds(10)));
            var mine = writer.Text.Split('\n').Where(l => l.Contains(tag)).ToList();
            Assert.Equal(100, mine.Count);
            for (int i = 0; i < 100; i++)
                Assert.EndsWith($"ERROR {tag} {i}", mine[i].TrimEnd('\r'));
        }
        finally
        {
            writer.Gate.Set();
            Log.SetWriter(Console.Error);
        }
    }

    [Fact]
    public void AFullQueueDropsAndCountsInsteadOfWaiting()
    {
        var writer = new StalledWriter();
        Log.SetWriter(writer);
        try
        {
            long dropped = Log.Dropped;
            for (int i = 0; i < Log.QueueCapacity + 500; i++)
                Log.Error("flood");
            Assert.True(Log.Dropped - dropped >= 400, $"dropped {Log.Dropped - dropped}");
        }
        finally
        {
            writer.Gate.Set();
            Assert.True(Log.Flush(TimeSpan.FromSeconds(20)));
            Log.SetWriter(Console.Error);
        }
    }
}
