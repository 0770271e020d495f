using Engine.Host.Transport;

namespace Engine.Fuzz.Targets;

/// <summary>RFC 7983 first-byte demux of the shared media port.</summary>
public sealed class DemuxTarget : FuzzTarget
{
    public override string Name => "demux";
    public override string Description => "RFC 7983 demux: DatagramDemux.Classify";
    public override int MaxLength => 1500;

    public override bool Run(Span<byte> input)
    {
        var kind = DatagramDemux.Classify(input);
        if (!Enum.IsDefined(kind))
            throw new InvalidOperationException($"Classify returned undefined kind {(int)kind}");
        return kind != DatagramKind.Unknown;
    }
}
