using System.Reflection;

namespace Engine.Fuzz;

/// <summary>
/// One fuzz target: a function from bytes to a defined outcome. <see cref="Run"/> returns true
/// when the input was accepted and false when it was rejected; both are fine. Any exception, any
/// run over the time limit (1 s) and any read past the input (the input ends at a guard page) is
/// a crash. Adding a target is adding one subclass: the registry finds it by reflection.
/// </summary>
public abstract class FuzzTarget
{
    /// <summary>The name on the command line (<c>fuzz/run.sh NAME SECONDS</c>) and the corpus folder.</summary>
    public abstract string Name { get; }

    public abstract string Description { get; }

    /// <summary>Inputs are cut to this length; about one datagram for packet formats.</summary>
    public virtual int MaxLength => 2048;

    /// <summary>Self-tests crash by design; <c>run.sh all</c> skips them.</summary>
    public virtual bool IsSelfTest => false;

    /// <summary>Instrumented assemblies whose automatic dictionary (string literals, wide constants) the mutator uses.</summary>
    public virtual string[] DictionaryAssemblies => [];

    /// <summary>Extra tokens (raw strings, or AFL dictionary syntax with <c>\xNN</c> when quoted).</summary>
    public virtual string[] Tokens => [];

    /// <summary>One-time state (keys, an endpoint in a fixed state); runs before the first input.</summary>
    public virtual void Setup()
    {
    }

    /// <summary>More of the last run's outcome than the bool (a count, a parsed value), for <c>run.sh check</c>.</summary>
    public virtual string? LastDetail => null;

    /// <summary>The input is writable (SRTP decrypts in place) and borrowed for the call only.</summary>
    public abstract bool Run(Span<byte> input);
}

public static class TargetRegistry
{
    public static IReadOnlyList<FuzzTarget> All { get; } = typeof(FuzzTarget).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(FuzzTarget)) && !t.IsAbstract)
        .Select(t => (FuzzTarget)Activator.CreateInstance(t)!)
        .OrderBy(t => t.IsSelfTest).ThenBy(t => t.Name, StringComparer.Ordinal)
        .ToList();

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
