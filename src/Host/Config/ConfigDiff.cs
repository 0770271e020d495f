namespace Engine.Host.Config;

/// <summary>The keys a reload found changed: applied at once (<see cref="Live"/>), or waiting for a restart.</summary>
public sealed record ConfigDiff(IReadOnlyList<string> Live, IReadOnlyList<string> Restart)
{
    public bool IsEmpty => Live.Count == 0 && Restart.Count == 0;
}
