using System.Buffers;
using System.Globalization;
using System.Text;

namespace Engine.Host.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format, version 0.0.4, straight into a byte buffer
/// (the response's pipe): UTF-8, one sample a line, HELP and TYPE before each family. Numbers
/// and escapes are formatted in place; nothing is allocated per sample.
/// </summary>
public sealed class MetricsWriter
{
    private readonly IBufferWriter<byte> _out;

    public MetricsWriter(IBufferWriter<byte> output) => _out = output ?? throw new ArgumentNullException(nameof(output));

    /// <summary>The content type a scrape gets.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary><c># HELP</c> and <c># TYPE</c>: once per family, before its samples.</summary>
    public void Family(string name, string help, MetricType type)
    {
        CheckMetricName(name);
        Ascii("# HELP ");
        Ascii(name);
        Byte((byte)' ');
        Escaped(help, quote: false); // HELP escapes backslash and line feed only
        Ascii("\n# TYPE ");
        Ascii(name);
        Ascii(type switch { MetricType.Counter => " counter\n", MetricType.Gauge => " gauge\n", _ => " histogram\n" });
    }

    public void Sample(string name, long value)
    {
        CheckMetricName(name);
        Ascii(name);
        Value(value);
    }

    public void Sample(string name, double value)
    {
        CheckMetricName(name);
        Ascii(name);
        Value(value);
    }

    public void Sample(string name, string label, string labelValue, long value)
    {
        CheckMetricName(name);
        Ascii(name);
        Byte((byte)'{');
        Label(label, labelValue);
        Byte((byte)'}');
        Value(value);
    }

    public void Sample(string name, string label, string labelValue, double value)
    {
        CheckMetricName(name);
        Ascii(name);
        Byte((byte)'{');
        Label(label, labelValue);
        Byte((byte)'}');
        Value(value);
    }

    public void Sample(string name, string label1, string value1, string label2, string value2, long value)
    {
        CheckMetricName(name);
        Ascii(name);
        Byte((byte)'{');
        Label(label1, value1);
        Byte((byte)',');
        Label(label2, value2);
        Byte((byte)'}');
        Value(value);
    }

    public void Counter(string name, string help, long value)
    {
        Family(name, help, MetricType.Counter);
        Sample(name, value);
    }

    public void Counter(string name, string help, double value)
    {
        Family(name, help, MetricType.Counter);
        Sample(name, value);
    }

    public void Gauge(string name, string help, long value)
    {
        Family(name, help, MetricType.Gauge);
        Sample(name, value);
    }

    public void Gauge(string name, string help, double value)
    {
        Family(name, help, MetricType.Gauge);
        Sample(name, value);
    }

    /// <summary>A histogram family with one unlabelled series.</summary>
    public void Histogram(string name, string help, MetricsHistogram histogram)
    {
        Family(name, help, MetricType.Histogram);
        HistogramSeries(name, histogram);
    }

    /// <summary>
    /// One series of a histogram family (after <see cref="Family"/>): the cumulative
    /// <c>_bucket{le=...}</c> lines ending at <c>+Inf</c>, then <c>_sum</c> and <c>_count</c>.
    /// </summary>
    public void HistogramSeries(string name, MetricsHistogram histogram, string? label = null, string? labelValue = null)
    {
        CheckMetricName(name);
        if (label != null)
            CheckLabelName(label);
        var bounds = histogram.UpperBounds;
        long cumulative = 0;
        for (int i = 0; i <= bounds.Length; i++)
        {
            cumulative += histogram.BucketCount(i);
            Ascii(name);
            Ascii("_bucket{");
            if (label != null)
            {
                Label(label, labelValue ?? "");
                Byte((byte)',');
            }
            Ascii("le=\"");
            if (i < bounds.Length)
                Number(bounds[i]);
            else
                Ascii("+Inf");
            Ascii("\"}");
            Value(cumulative);
        }
        Ascii(name);
        Ascii("_sum");
        LabelSet(label, labelValue);
        Value(histogram.Sum);
        Ascii(name);
        Ascii("_count");
        LabelSet(label, labelValue);
        Value(cumulative); // equals the +Inf bucket even while another thread observes
    }

    private void LabelSet(string? label, string? value)
    {
        if (label == null)
            return;
        Byte((byte)'{');
        Label(label, value ?? "");
        Byte((byte)'}');
    }

    private void Label(string name, string value)
    {
        CheckLabelName(name);
        Ascii(name);
        Ascii("=\"");
        Escaped(value, quote: true);
        Byte((byte)'"');
    }

    private void Value(long value)
    {
        Byte((byte)' ');
        var span = _out.GetSpan(24);
        value.TryFormat(span, out int n, default, CultureInfo.InvariantCulture);
        _out.Advance(n);
        Byte((byte)'\n');
    }

    private void Value(double value)
    {
        Byte((byte)' ');
        Number(value);
        Byte((byte)'\n');
    }

    private void Number(double value)
    {
        if (double.IsNaN(value))
            Ascii("NaN");
        else if (double.IsPositiveInfinity(value))
            Ascii("+Inf");
        else if (double.IsNegativeInfinity(value))
            Ascii("-Inf");
        else
        {
            var span = _out.GetSpan(32);
            value.TryFormat(span, out int n, "R", CultureInfo.InvariantCulture); // shortest that round-trips
            _out.Advance(n);
        }
    }

    /// <summary>Label values escape backslash, double quote and line feed; HELP text backslash and line feed.</summary>
    private void Escaped(string text, bool quote)
    {
        var s = text.AsSpan();
        while (!s.IsEmpty)
        {
            int special = quote ? s.IndexOfAny('\\', '"', '\n') : s.IndexOfAny('\\', '\n');
            var run = special < 0 ? s : s[..special];
            if (!run.IsEmpty)
            {
                var span = _out.GetSpan(Encoding.UTF8.GetMaxByteCount(run.Length));
                _out.Advance(Encoding.UTF8.GetBytes(run, span));
            }
            if (special < 0)
                return;
            Ascii(s[special] switch { '\\' => "\\\\", '"' => "\\\"", _ => "\\n" });
            s = s[(special + 1)..];
        }
    }

    private void Ascii(string ascii)
    {
        var span = _out.GetSpan(ascii.Length);
        for (int i = 0; i < ascii.Length; i++)
            span[i] = (byte)ascii[i];
        _out.Advance(ascii.Length);
    }

    private void Byte(byte b)
    {
        _out.GetSpan(1)[0] = b;
        _out.Advance(1);
    }

    /// <summary>[a-zA-Z_:][a-zA-Z0-9_:]*: a name is the program's, so a bad one is a bug, thrown.</summary>
    private static void CheckMetricName(string name)
    {
        if (!IsName(name, colon: true))
            throw new ArgumentException($"'{name}' is not a Prometheus metric name", nameof(name));
    }

    /// <summary>[a-zA-Z_][a-zA-Z0-9_]*, and never "__" first (reserved).</summary>
    private static void CheckLabelName(string name)
    {
        if (!IsName(name, colon: false) || name.StartsWith("__", StringComparison.Ordinal))
            throw new ArgumentException($"'{name}' is not a Prometheus label name", nameof(name));
    }

    private static bool IsName(string name, bool colon)
    {
        if (string.IsNullOrEmpty(name))
            return false;
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or '_' || (colon && c == ':') || (i > 0 && c is >= '0' and <= '9');
            if (!ok)
                return false;
        }
        return true;
    }
}
