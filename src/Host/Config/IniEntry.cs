namespace Engine.Host.Config;

/// <summary>One <c>KEY=VALUE</c> line of an INI file, with where it came from for error messages.</summary>
public sealed record IniEntry(string Section, string Key, string Value, int Line);
