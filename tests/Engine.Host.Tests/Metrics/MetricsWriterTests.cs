using System.Buffers;
using System.Text;
using Engine.Host.Metrics;

namespace Engine.Host.Tests.Metrics;

/// <summary>The Prometheus text format 0.0.4 as <see cref="MetricsWriter"/> writes it, byte for byte.</summary>
public class MetricsWriterTests
{
    private static string Write(Action<MetricsWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(16);
        write(new MetricsWriter(buffer));
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void ACounterAndAGaugeHaveHelpTypeAndOneSampleLine()
    {
        string text = Write(w =>
        {
            w.Counter("engine_things_total", "Things done", 42);
            w.Gauge("engine_level", "A level", -3);
        });
        Assert.Equal(
            "# HELP engine_things_total Things done\n# TYPE engine_things_total counter\nengine_things_total 42\n" +
            "# HELP engine_level A level\n# TYPE engine_level gauge\nengine_level -3\n", text);
    }

    [Fact]
    public void LabelValuesEscapeBackslashQuoteAndLineFeedAndKeepUtf8()
    {
        string text = Write(w =>
        {
            w.Family("m", "x", MetricType.Gauge);
            w.Sample("m", "path", "a\\b\"c\nd é", 1L);
            w.Sample("m", "a", "1", "b", "", 2L);
        });
        Assert.Equal("# HELP m x\n# TYPE m gauge\nm{path=\"a\\\\b\\\"c\\nd é\"} 1\nm{a=\"1\",b=\"\"} 2\n", text);
    }

    [Fact]
    public void HelpEscapesBackslashAndLineFeedButNotQuotes()
    {
        string text = Write(w => w.Family("m", "say \"hi\"\\now\nplease", MetricType.Counter));
        Assert.Equal("# HELP m say \"hi\"\\\\now\\nplease\n# TYPE m counter\n", text);
    }

    [Fact]
    public void DoublesRoundTripAndSpecialValuesUseThePrometheusSpelling()
    {
        string text = Write(w =>
        {
            w.Sample("a", 0.1);
            w.Sample("b", 1e-7);
            w.Sample("c", double.NaN);
            w.Sample("d", double.PositiveInfinity);
            w.Sample("e", double.NegativeInfinity);
            w.Sample("f", 12345678.5);
            w.Sample("g", long.MaxValue);
        });
        Assert.Equal("a 0.1\nb 1E-07\nc NaN\nd +Inf\ne -Inf\nf 12345678.5\ng 9223372036854775807\n", text);
        Assert.Equal(1e-7, double.Parse("1E-07", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void HistogramBucketsAreCumulativeEndAtInfAndCountEqualsTheInfBucket()
    {
        var h = new MetricsHistogram(0.125, 0.5, 1); // binary fractions: the sum is exact
        foreach (double v in new[] { 0.0625, 0.125, 0.75, 4, 0.125 })
            h.Observe(v);
        h.Observe(double.NaN); // ignored
        string text = Write(w => w.Histogram("engine_rtt_seconds", "RTT", h));
        Assert.Equal(
            "# HELP engine_rtt_seconds RTT\n# TYPE engine_rtt_seconds histogram\n" +
            "engine_rtt_seconds_bucket{le=\"0.125\"} 3\n" + // a value on a bound counts in it (le)
            "engine_rtt_seconds_bucket{le=\"0.5\"} 3\n" +
            "engine_rtt_seconds_bucket{le=\"1\"} 4\n" +
            "engine_rtt_seconds_bucket{le=\"+Inf\"} 5\n" +
            "engine_rtt_seconds_sum 5.0625\n" +
            "engine_rtt_seconds_count 5\n", text);
        Assert.Equal(5, h.Count);
        Assert.Equal(5.0625, h.Sum);
    }

    [Fact]
    public void ALabelledHistogramSeriesPutsItsLabelBeforeLe()
    {
        var h = new MetricsHistogram(0);
        h.Observe(0);
        h.Observe(0.5);
        string text = Write(w => w.HistogramSeries("engine_loss_ratio", h, "media", "audio"));
        Assert.Equal(
            "engine_loss_ratio_bucket{media=\"audio\",le=\"0\"} 1\n" +
            "engine_loss_ratio_bucket{media=\"audio\",le=\"+Inf\"} 2\n" +
            "engine_loss_ratio_sum{media=\"audio\"} 0.5\n" +
            "engine_loss_ratio_count{media=\"audio\"} 2\n", text);
    }

    [Fact]
    public void ConcurrentObservationsAreAllCounted()
    {
        var h = new MetricsHistogram(1, 2);
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 10_000; i++)
                h.Observe(i % 3); // 0, 1 in the first bucket; 2 in the second
        });
        Assert.Equal(40_000, h.Count);
        Assert.Equal(4 * 9999.0, h.Sum); // per thread: 3333 ones and 3333 twos
        Assert.Equal(4 * 6667, h.BucketCount(0));
        Assert.Equal(4 * 3333, h.BucketCount(1));
        Assert.Equal(0, h.BucketCount(2));
    }

    [Theory]
    [InlineData("")]
    [InlineData("9lives")]
    [InlineData("has space")]
    [InlineData("dash-ed")]
    public void ABadMetricNameIsABug(string name)
    {
        Assert.Throws<ArgumentException>(() => Write(w => w.Sample(name, 1L)));
    }

    [Theory]
    [InlineData("__reserved")]
    [InlineData("a:b")]
    [InlineData("1a")]
    public void ABadLabelNameIsABug(string label)
    {
        Assert.Throws<ArgumentException>(() => Write(w => w.Sample("m", label, "v", 1L)));
    }

    [Fact]
    public void BucketBoundsMustBeFiniteAndIncreasing()
    {
        Assert.Throws<ArgumentException>(() => new MetricsHistogram(1, 1));
        Assert.Throws<ArgumentException>(() => new MetricsHistogram(2, 1));
        Assert.Throws<ArgumentException>(() => new MetricsHistogram(1, double.PositiveInfinity));
    }

    [Fact]
    public void WritingSamplesAllocatesNothing()
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        var w = new MetricsWriter(buffer);
        var h = new MetricsHistogram(0.001, 0.01, 0.1, 1);
        h.Observe(0.02);
        void Round()
        {
            buffer.ResetWrittenCount();
            w.Counter("engine_x_total", "help \"text\"", 123);
            w.Family("engine_y", "y", MetricType.Gauge);
            w.Sample("engine_y", "state", "a\"b", "kind", "rtp", 7L);
            w.Sample("engine_y", "state", "c", 0.25);
            w.Histogram("engine_h_seconds", "h", h);
        }
        Round(); // warm-up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
            Round();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void TheRegistryWritesEverySourceInOrderAndSurvivesAThrowingOne()
    {
        var registry = new MetricsRegistry();
        registry.Add(w => w.Gauge("first", "1", 1));
        registry.Add(_ => throw new InvalidOperationException("broken"));
        registry.Add(w => w.Gauge("second", "2", 2));
        string text = Write(registry.Write);
        Assert.Equal("# HELP first 1\n# TYPE first gauge\nfirst 1\n# HELP second 2\n# TYPE second gauge\nsecond 2\n", text);
        Assert.Equal(3, registry.Count);
    }
}
