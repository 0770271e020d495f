using System.Text;
using Engine.Ice;

namespace Engine.Fuzz.Targets;

/// <summary>
/// The ICE-lite responder (answerer side of the fixtures: ufrag 6soA, remote xxcb) fed a STUN
/// datagram re-signed like <c>stun-signed</c>, so checks get past MESSAGE-INTEGRITY into
/// nomination and role handling. What the agent answers must itself parse and verify.
/// </summary>
public sealed class IceTarget : FuzzTarget
{
    private static readonly byte[] Password = Encoding.ASCII.GetBytes("5PXyuI0CUP0DSJClaph46Xds");
    private readonly byte[] _response = new byte[1500];

    public override string Name => "ice";
    public override string Description => "ICE-lite agent: IceLiteAgent.HandleStun on a re-signed check; its answer must parse and verify";
    public override int MaxLength => 1500;
    public override string[] DictionaryAssemblies => ["Engine.Ice"];
    public override string[] Tokens => ["\"\\x21\\x12\\xa4\\x42\"", "\"\\x00\\x08\\x00\\x14\"", "\"\\x80\\x28\\x00\\x04\"", "\"\\x00\\x25\\x00\\x00\"", "\"\\x80\\x29\\x00\\x08\"", "\"\\x80\\x2a\\x00\\x08\"", "6soA:xxcb"];

    public override bool Run(Span<byte> input)
    {
        var agent = new IceLiteAgent("6soA", "5PXyuI0CUP0DSJClaph46Xds", "xxcb", nowMicros: 0);
        var message = StunSignedTarget.Fixup(input);
        // The same check from a first path, then from a second one later: selection, nomination and path switch.
        var first = Handle(agent, message, NetAddress.FromIPv4(0x7f000001, 50000), 1_000);
        var second = Handle(agent, message, NetAddress.FromIPv4(0x0a000002, 40000), 2_000_000);
        if (first == IceCheckResult.Answered && agent.Selected == null)
            throw new InvalidOperationException("the ICE agent answered a check but selected no path");
        return first == IceCheckResult.Answered && second == IceCheckResult.Answered && !agent.ConsentExpired(2_000_000);
    }

    private IceCheckResult Handle(IceLiteAgent agent, ReadOnlySpan<byte> message, NetAddress from, long nowMicros)
    {
        var result = agent.HandleStun(message, from, nowMicros, _response, out int length);
        if (result is IceCheckResult.Answered or IceCheckResult.ErrorAnswered)
        {
            if (length <= 0 || length > _response.Length)
                throw new InvalidOperationException($"ICE answered with length {length}");
            var answer = _response.AsSpan(0, length);
            if (!StunMessageView.TryRead(answer, out var m))
                throw new InvalidOperationException("the ICE agent's own answer does not parse");
            if (m.HasFingerprint && !m.VerifyFingerprint())
                throw new InvalidOperationException("the ICE agent's own answer has a wrong FINGERPRINT");
            if (result == IceCheckResult.Answered && !m.VerifyMessageIntegrity(Password))
                throw new InvalidOperationException("the ICE agent's success answer does not verify with its password");
        }
        return result;
    }
}
