using System.Security.Cryptography;
using System.Text;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace Engine.Fuzz.Instrument;

/// <summary>
/// Rewrites assemblies in place so every basic block records an edge in
/// <c>Engine.Fuzz.Runtime.Coverage</c>. Usage:
/// <c>Engine.Fuzz.Instrument &lt;Engine.Fuzz.Runtime.dll&gt; &lt;assembly.dll&gt;...</c>
/// Also writes <c>&lt;assembly&gt;.dict</c> beside each assembly: its string literals and
/// wide integer constants, the fuzzer's automatic dictionary.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: Engine.Fuzz.Instrument <Engine.Fuzz.Runtime.dll> <assembly.dll>...");
            return 2;
        }
        string runtimePath = Path.GetFullPath(args[0]);
        foreach (string path in args.Skip(1))
        {
            var stats = Rewriter.Rewrite(runtimePath, Path.GetFullPath(path));
            Console.WriteLine(stats.AlreadyDone
                ? $"instrument: {Path.GetFileName(path)} already instrumented"
                : $"instrument: {Path.GetFileName(path)}: {stats.Methods} methods, {stats.Blocks} blocks, {stats.Compares} split compares, {stats.Tokens} dictionary tokens");
        }
        return 0;
    }
}

public sealed record RewriteStats(bool AlreadyDone, int Methods, int Blocks, int Compares, int Tokens);

public static class Rewriter
{
    private const string MarkerName = "<EngineFuzzInstrumented>";

    public static RewriteStats Rewrite(string runtimePath, string path)
    {
        var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(path)!);
        resolver.AddSearchDirectory(Path.GetDirectoryName(runtimePath)!);
        var readerParameters = new ReaderParameters { AssemblyResolver = resolver, InMemory = true, ReadSymbols = false };
        using var runtime = ModuleDefinition.ReadModule(runtimePath, readerParameters);
        // With the portable PDB read and rewritten, crash stack traces keep their file:line.
        bool symbols = File.Exists(Path.ChangeExtension(path, ".pdb"));
        using var assembly = AssemblyDefinition.ReadAssembly(path, new ReaderParameters
        {
            AssemblyResolver = resolver,
            InMemory = true,
            ReadSymbols = symbols,
            SymbolReaderProvider = symbols ? new PortablePdbReaderProvider() : null,
        });
        var module = assembly.MainModule;
        if (module.Types.Any(t => t.Name == MarkerName))
            return new RewriteStats(true, 0, 0, 0, 0);

        var coverage = runtime.GetType("Engine.Fuzz.Runtime.Coverage") ?? throw new InvalidOperationException("Coverage type not found in " + runtimePath);
        var hit = module.ImportReference(coverage.Methods.Single(m => m.Name == "Hit"));
        var cmp = module.ImportReference(coverage.Methods.Single(m => m.Name == "Cmp32"));

        // Block ids are random but reproducible: seeded from the assembly name, so a rebuild of the
        // same code gives the same map layout (corpora and results stay comparable).
        var rng = new Random(BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(module.Assembly.Name.Name))));
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        int methods = 0, blocks = 0, compares = 0;
        foreach (var type in module.GetTypes().ToList())
        {
            foreach (var method in type.Methods)
            {
                if (!method.HasBody || method.Body.Instructions.Count == 0)
                    continue;
                CollectTokens(method.Body, tokens);
                var (b, c) = InstrumentMethod(method.Body, hit, cmp, rng);
                methods++;
                blocks += b;
                compares += c;
            }
        }
        module.Types.Add(new TypeDefinition("", MarkerName, TypeAttributes.NotPublic | TypeAttributes.Abstract | TypeAttributes.Sealed, module.TypeSystem.Object));
        assembly.Write(path, new WriterParameters { WriteSymbols = symbols, SymbolWriterProvider = symbols ? new PortablePdbWriterProvider() : null });
        File.WriteAllLines(Path.ChangeExtension(path, ".dict"), tokens.Order(StringComparer.Ordinal));
        return new RewriteStats(false, methods, blocks, compares, tokens.Count);
    }

    /// <summary>
    /// Inserts <c>ldc.i4 id; call Coverage.Hit</c> at the start of every basic block. The probe is
    /// made by turning the block's first instruction itself into the <c>ldc.i4</c> and re-adding a
    /// copy of it after the call: every branch, switch table and exception-handler boundary that
    /// pointed at the block keeps pointing at the same <see cref="Instruction"/> object, which is
    /// now the probe, so no jump skips it and no handler boundary moves across it.
    /// </summary>
    public static (int Blocks, int Compares) InstrumentMethod(MethodBody body, MethodReference hit, MethodReference cmp, Random rng)
    {
        body.SimplifyMacros(); // long branch forms: inserted code cannot push a short branch out of range
        var il = body.Instructions;
        var leaders = FindLeaders(body);

        // Split compares first: they may rewrite a leader in place, which keeps it a leader.
        int compares = 0;
        for (int i = 1; i < il.Count; i++)
        {
            var ins = il[i];
            if (ins.OpCode.Code is not (Code.Beq or Code.Bne_Un or Code.Ceq) || leaders.Contains(ins))
                continue;
            var k = il[i - 1];
            if (k.OpCode.Code != Code.Ldc_I4 || k.Operand is not int constant || constant is >= -128 and <= 255)
                continue;
            // Before: [.. a] ldc.i4 K; beq    After: [.. a] dup; ldc.i4 K; ldc.i4 site; call Cmp32; ldc.i4 K; beq
            int site = rng.Next(Runtime.MapSize);
            var reload = Instruction.Create(OpCodes.Ldc_I4, constant);
            k.OpCode = OpCodes.Dup;
            k.Operand = null;
            int at = i; // index of the branch/ceq; insert before it
            il.Insert(at++, Instruction.Create(OpCodes.Ldc_I4, constant));
            il.Insert(at++, Instruction.Create(OpCodes.Ldc_I4, site));
            il.Insert(at++, Instruction.Create(OpCodes.Call, cmp));
            il.Insert(at++, reload);
            i = at;
            compares++;
        }

        int blocks = 0;
        for (int i = 0; i < il.Count; i++)
        {
            var ins = il[i];
            if (!leaders.Contains(ins))
                continue;
            var copy = Instruction.Create(OpCodes.Nop);
            copy.OpCode = ins.OpCode;
            copy.Operand = ins.Operand;
            ins.OpCode = OpCodes.Ldc_I4;
            ins.Operand = rng.Next(Runtime.MapSize);
            il.Insert(i + 1, Instruction.Create(OpCodes.Call, hit));
            il.Insert(i + 2, copy);
            i += 2;
            blocks++;
        }
        body.OptimizeMacros();
        return (blocks, compares);
    }

    private static HashSet<Instruction> FindLeaders(MethodBody body)
    {
        var il = body.Instructions;
        var leaders = new HashSet<Instruction> { il[0] };
        foreach (var ins in il)
        {
            switch (ins.OpCode.FlowControl)
            {
                case FlowControl.Branch:
                case FlowControl.Cond_Branch:
                    if (ins.Operand is Instruction target)
                        leaders.Add(target);
                    else if (ins.Operand is Instruction[] targets)
                        leaders.UnionWith(targets);
                    // The fall-through of a conditional branch is a block of its own.
                    if (ins.OpCode.FlowControl == FlowControl.Cond_Branch && ins.Next != null)
                        leaders.Add(ins.Next);
                    break;
            }
        }
        foreach (var h in body.ExceptionHandlers)
        {
            leaders.Add(h.TryStart);
            leaders.Add(h.HandlerStart);
            if (h.FilterStart != null)
                leaders.Add(h.FilterStart);
        }
        // A probe must not sit between a prefix (constrained., volatile., readonly., tail., unaligned.) and its instruction.
        leaders.RemoveWhere(l => l.Previous is { } p && p.OpCode.OpCodeType == OpCodeType.Prefix);
        // Nor between a tail-prefixed call and its ret (the JIT rejects "tail. call; <probe>; ret").
        leaders.RemoveWhere(l => l.OpCode.Code == Code.Ret && l.Previous is { OpCode.FlowControl: FlowControl.Call } c
            && c.Previous is { OpCode.Code: Code.Tail });
        return leaders;
    }

    private static void CollectTokens(MethodBody body, HashSet<string> tokens)
    {
        foreach (var ins in body.Instructions)
        {
            if (ins.OpCode.Code == Code.Ldstr && ins.Operand is string s && s.Length is >= 2 and <= 40 && s.All(c => c is >= ' ' and <= '~'))
                tokens.Add(Quote(Encoding.ASCII.GetBytes(s)));
            else if (ins.OpCode.Code is Code.Ldc_I4 && ins.Operand is int v && (v < -128 || v > 255))
            {
                var b = new byte[4];
                bool wide = v is < short.MinValue or > ushort.MaxValue;
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b, v);
                tokens.Add(Quote(wide ? b : b.AsSpan(2)));
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b, v);
                tokens.Add(Quote(wide ? b : b.AsSpan(0, 2)));
            }
        }
    }

    /// <summary>AFL dictionary syntax: one <c>"token"</c> per line, non-printables as <c>\xNN</c>.</summary>
    private static string Quote(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder("\"");
        foreach (byte b in bytes)
        {
            if (b is >= 0x20 and <= 0x7e && b != '"' && b != '\\')
                sb.Append((char)b);
            else
                sb.Append("\\x").Append(b.ToString("x2"));
        }
        return sb.Append('"').ToString();
    }
}

internal static class Runtime
{
    // Must match Engine.Fuzz.Runtime.Coverage.MapSize (the rewriter does not load that assembly's code).
    public const int MapSize = 1 << 16;
}
