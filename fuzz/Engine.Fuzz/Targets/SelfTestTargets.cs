using Engine.Fuzz.Sample;

namespace Engine.Fuzz.Targets;

/// <summary>The harness self-test: a planted bug behind a 4-byte magic, as separate byte compares.</summary>
public sealed class SelfTestTarget : FuzzTarget
{
    public override string Name => "selftest";
    public override string Description => "planted bug: throws when bytes 2..5 are \"FUZZ\" (byte compares)";
    public override int MaxLength => 64;
    public override bool IsSelfTest => true;
    public override bool Run(Span<byte> input) => PlantedBug.ParseBytes(input);
}

/// <summary>The self-test of the split compares: the magic is one 32-bit compare.</summary>
public sealed class SelfTestWordTarget : FuzzTarget
{
    public override string Name => "selftest-cmp32";
    public override string Description => "planted bug: throws when bytes 6..9 read as a big-endian uint32 are \"BUG!\"";
    public override int MaxLength => 64;
    public override bool IsSelfTest => true;
    public override bool Run(Span<byte> input) => PlantedBug.ParseWord(input);
}

/// <summary>Not a bug hunt: IL shapes the rewriter must preserve (ref structs, handlers, switch); see <c>run.sh check</c>.</summary>
public sealed class IlShapesTarget : FuzzTarget
{
    public override string Name => "selftest-il";
    public override string Description => "rewriter check: ref struct views, spans, switch, try/catch/filter/finally, iterators (never crashes)";
    public override int MaxLength => 256;
    public override bool IsSelfTest => true;
    public override string? LastDetail => IlShapes.Result.ToString(System.Globalization.CultureInfo.InvariantCulture);
    public override bool Run(Span<byte> input) => IlShapes.Run(input);
}

/// <summary>The hang rule: a run over the time limit must end as a written finding.</summary>
public sealed class SelfTestHangTarget : FuzzTarget
{
    public override string Name => "selftest-hang";
    public override string Description => "planted hang: spins when the input starts with \"LOOP\"";
    public override int MaxLength => 64;
    public override bool IsSelfTest => true;
    public override bool Run(Span<byte> input) => PlantedFaults.Spin(input);
}

/// <summary>The out-of-range rule: a read past the input hits the guard page and must end as a written finding.</summary>
public sealed class SelfTestReadPastTarget : FuzzTarget
{
    public override string Name => "selftest-oob";
    public override string Description => "planted out-of-range read: reads past the input when it starts with \"OOB!\"";
    public override int MaxLength => 64;
    public override bool IsSelfTest => true;
    public override bool Run(Span<byte> input) => PlantedFaults.ReadPast(input);
}
