namespace Engine.Host.Config;

/// <summary>
/// The legacy gateway's INI dialect: <c>[SECTION]</c> headers, <c>KEY=VALUE</c> lines, <c>#</c> or <c>;</c>
/// comments on their own line. Section and key names are case-insensitive. Parsing never throws.
/// In <c>[TURN]</c>, which takes a pasted turnserver.conf, a bare name is a flag (value "") and keys
/// may repeat (<c>user=</c>, <c>denied-peer-ip=</c>): every line is kept, as coturn reads them.
/// </summary>
public sealed class IniDocument
{
    public const int MaxBytes = 256 * 1024;
    public const int MaxLines = 10_000;

    private readonly Dictionary<(string Section, string Key), IniEntry> _entries = new(IniKeyComparer.Instance);
    private readonly List<IniEntry> _ordered = new();

    public IReadOnlyList<IniEntry> Entries => _ordered;

    /// <summary>Every section header seen, even one with no keys under it.</summary>
    public HashSet<string> Sections { get; } = new(StringComparer.OrdinalIgnoreCase);

    private static bool IsMultiValued(string section) => section.Equals("TURN", StringComparison.OrdinalIgnoreCase);

    /// <summary>Lines that were dropped as duplicates of an earlier key (the last value wins, as in the legacy parser).</summary>
    public List<string> Warnings { get; } = new();

    public bool TryGet(string section, string key, out IniEntry entry) =>
        _entries.TryGetValue((section, key), out entry!);

    public static bool TryParse(string text, out IniDocument document, out string error)
    {
        document = new IniDocument();
        error = "";
        if (text.Length > MaxBytes)
        {
            error = $"config is larger than {MaxBytes} bytes";
            return false;
        }
        string section = "";
        int lineNo = 0;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            if (++lineNo > MaxLines)
            {
                error = $"config has more than {MaxLines} lines";
                return false;
            }
            var line = rawLine.Trim();
            if (line.IsEmpty || line[0] == '#' || line[0] == ';')
                continue;
            if (line[0] == '[')
            {
                int close = line.IndexOf(']');
                if (close < 2 || !line[(close + 1)..].Trim().IsEmpty)
                {
                    error = $"line {lineNo}: malformed section header '{line}'";
                    return false;
                }
                section = line[1..close].Trim().ToString();
                document.Sections.Add(section);
                continue;
            }
            int eq = line.IndexOf('=');
            if (eq < 0 && IsMultiValued(section))
            {
                // coturn's flags: "lt-cred-mech", "no-tls"; a "#" after a value is not a comment there either.
                var flag = new IniEntry(section, line.ToString(), "", lineNo);
                document._entries[(flag.Section, flag.Key)] = flag;
                document._ordered.Add(flag);
                continue;
            }
            if (eq <= 0)
            {
                error = $"line {lineNo}: expected KEY=VALUE, got '{line}'";
                return false;
            }
            if (section.Length == 0)
            {
                error = $"line {lineNo}: key '{line[..eq].Trim()}' is outside any [SECTION]";
                return false;
            }
            var entry = new IniEntry(section, line[..eq].Trim().ToString(), line[(eq + 1)..].Trim().ToString(), lineNo);
            if (!IsMultiValued(section) && document._entries.TryGetValue((entry.Section, entry.Key), out var earlier))
            {
                document.Warnings.Add($"line {lineNo}: [{entry.Section}] {entry.Key} repeats line {earlier.Line}; the later value is used");
                document._ordered.Remove(earlier);
            }
            document._entries[(entry.Section, entry.Key)] = entry;
            document._ordered.Add(entry);
        }
        return true;
    }

    private sealed class IniKeyComparer : IEqualityComparer<(string Section, string Key)>
    {
        public static readonly IniKeyComparer Instance = new();

        public bool Equals((string Section, string Key) x, (string Section, string Key) y) =>
            StringComparer.OrdinalIgnoreCase.Equals(x.Section, y.Section) && StringComparer.OrdinalIgnoreCase.Equals(x.Key, y.Key);

        public int GetHashCode((string Section, string Key) obj) =>
            HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(obj.Section), StringComparer.OrdinalIgnoreCase.GetHashCode(obj.Key));
    }
}
