namespace Engine.Ice.Turn;

/// <summary>
/// The host side of relayed addresses: the core asks for one when an allocation is made and
/// gives it back when the allocation ends; the host opens and closes the socket behind it.
/// </summary>
public interface IRelayPortAllocator
{
    /// <summary>
    /// A relayed transport address of the family asked for (an even port when
    /// <paramref name="evenPort"/>, RFC 8656 §7.2); false when none is free or the family is not served.
    /// </summary>
    bool TryAllocate(bool ipv6, bool evenPort, out NetAddress relayAddress);

    /// <summary>The allocation behind this address ended: the host closes its socket.</summary>
    void Release(in NetAddress relayAddress);
}
