using Engine.Host.Config;

namespace Engine.Host;

/// <summary>What a reload did: on success the keys changed (applied, or waiting for a restart); otherwise why nothing was.</summary>
public sealed record ReloadResult(bool Ok, string? Error, ConfigDiff? Diff);
