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

    /// <summary>
    /// Two relayed addresses on one IP, ports N (even) and N+1 (RFC 8656 §7.2, EVEN-PORT with R):
    /// both sockets are opened now, so nobody else can take N+1 while it is reserved. Each is given
    /// back with <see cref="Release"/>. False when no such pair is free.
    /// </summary>
    bool TryAllocatePair(bool ipv6, out NetAddress relayAddress, out NetAddress reservedAddress)
    {
        relayAddress = default;
        reservedAddress = default;
        return false;
    }

    /// <summary>
    /// The allocation behind this address asked for DONT-FRAGMENT (RFC 8656 §7.2): datagrams from it
    /// leave with DF set (IPv4) or unfragmented (IPv6). Only called when
    /// <see cref="TurnServerOptions.SupportsDontFragment"/> is set.
    /// </summary>
    void SetDontFragment(in NetAddress relayAddress)
    {
    }

    /// <summary>The allocation behind this address ended: the host closes its socket.</summary>
    void Release(in NetAddress relayAddress);
}
