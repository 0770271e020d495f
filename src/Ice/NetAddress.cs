using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Engine.Ice;

/// <summary>
/// An IPv4 or IPv6 address and a port, held inline (no heap). The cores take this instead of
/// <see cref="EndPoint"/> so that a per-packet address costs nothing.
/// </summary>
public readonly struct NetAddress : IEquatable<NetAddress>
{
    // The 16 address bytes in network order: _high = bytes 0..7, _low = bytes 8..15.
    // IPv4 keeps its 4 bytes in the low 32 bits of _low.
    private readonly ulong _high;
    private readonly ulong _low;
    private readonly ushort _port;
    private readonly bool _isIPv6;

    private NetAddress(ulong high, ulong low, ushort port, bool isIPv6)
    {
        _high = high;
        _low = low;
        _port = port;
        _isIPv6 = isIPv6;
    }

    public ushort Port => _port;

    public bool IsIPv6 => _isIPv6;

    public bool IsIPv4 => !_isIPv6;

    /// <summary>4 for IPv4, 16 for IPv6.</summary>
    public int AddressLength => _isIPv6 ? 16 : 4;

    public AddressFamily AddressFamily => _isIPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    /// <summary>An IPv6 address of the form ::ffff:a.b.c.d, as a dual-stack socket reports IPv4 peers.</summary>
    public bool IsIPv4MappedToIPv6 => _isIPv6 && _high == 0 && (_low >> 32) == 0xffff;

    public static NetAddress FromIPv4(uint addressNetworkOrderValue, ushort port) =>
        new(0, addressNetworkOrderValue, port, false);

    /// <summary>Builds from 4 or 16 address bytes in network order; false for any other length.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> address, ushort port, out NetAddress result)
    {
        if (address.Length == 4)
        {
            result = new NetAddress(0, BinaryPrimitives.ReadUInt32BigEndian(address), port, false);
            return true;
        }
        if (address.Length == 16)
        {
            result = new NetAddress(BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]), port, true);
            return true;
        }
        result = default;
        return false;
    }

    /// <summary>Writes the 4 or 16 address bytes; returns the count, or 0 if the span is too short.</summary>
    public int WriteAddressBytes(Span<byte> destination)
    {
        if (_isIPv6)
        {
            if (destination.Length < 16)
                return 0;
            BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
            return 16;
        }
        if (destination.Length < 4)
            return 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)_low);
        return 4;
    }

    /// <summary>The IPv4 address inside ::ffff:a.b.c.d, or this address unchanged.</summary>
    public NetAddress UnmapIPv4() => IsIPv4MappedToIPv6 ? new NetAddress(0, (uint)_low, _port, false) : this;

    public NetAddress WithPort(ushort port) => new(_high, _low, port, _isIPv6);

    /// <summary>Exact conversion: ::ffff:a.b.c.d stays IPv6 (see <see cref="UnmapIPv4"/>). Throws for other families.</summary>
    public static NetAddress FromIPEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        Span<byte> bytes = stackalloc byte[16];
        if (!endPoint.Address.TryWriteBytes(bytes, out int written) || !TryCreate(bytes[..written], (ushort)endPoint.Port, out var result))
            throw new ArgumentException("only IPv4 and IPv6 endpoints are supported", nameof(endPoint));
        return result;
    }

    public IPEndPoint ToIPEndPoint()
    {
        Span<byte> bytes = stackalloc byte[16];
        int length = WriteAddressBytes(bytes);
        return new IPEndPoint(new IPAddress(bytes[..length]), _port);
    }

    /// <summary>
    /// Reads a sockaddr_in/sockaddr_in6 as filled by the allocation-free
    /// <c>Socket.ReceiveFrom(Span&lt;byte&gt;, SocketFlags, SocketAddress)</c>. Does not allocate.
    /// An IPv4 peer seen through a dual-stack socket (::ffff:a.b.c.d) comes out as IPv4, so a
    /// peer has one identity and XOR-MAPPED-ADDRESS reports the family it used.
    /// </summary>
    public static bool TryFromSocketAddress(SocketAddress socketAddress, out NetAddress result)
    {
        result = default;
        return socketAddress is not null && TryFromSockaddr(socketAddress.Buffer.Span[..socketAddress.Size], out result);
    }

    /// <summary>
    /// Reads a raw Linux sockaddr_in/sockaddr_in6 (sa_family in host order at 0), as recvmmsg(2)
    /// fills it. Does not allocate; IPv4-mapped IPv6 comes out as IPv4.
    /// </summary>
    public static bool TryFromSockaddr(ReadOnlySpan<byte> raw, out NetAddress result)
    {
        result = default;
        if (raw.Length < 2)
            return false;
        // sockaddr_in: port at 2, address at 4; sockaddr_in6: port at 2, flowinfo at 4, address at 8.
        switch (BinaryPrimitives.ReadUInt16LittleEndian(raw))
        {
            case SockaddrFamilyIPv4 when raw.Length >= 8:
                return TryCreate(raw.Slice(4, 4), BinaryPrimitives.ReadUInt16BigEndian(raw[2..]), out result);
            case SockaddrFamilyIPv6 when raw.Length >= 24:
                if (!TryCreate(raw.Slice(8, 16), BinaryPrimitives.ReadUInt16BigEndian(raw[2..]), out result))
                    return false;
                result = result.UnmapIPv4();
                return true;
            default:
                return false;
        }
    }

    private const ushort SockaddrFamilyIPv4 = 2;  // AF_INET on Linux
    private const ushort SockaddrFamilyIPv6 = 10; // AF_INET6 on Linux

    /// <summary>
    /// Fills a caller-owned <see cref="SocketAddress"/> (kept by the UDP host and reused for every
    /// send). An IPv4 address written into an IPv6 (dual-stack) socket address becomes
    /// ::ffff:a.b.c.d; an IPv6 address cannot go into an IPv4 one. Flow info and scope id are zero.
    /// </summary>
    public bool TryWriteTo(SocketAddress destination)
    {
        if (destination is null)
            return false;
        bool asIPv6 = destination.Family == AddressFamily.InterNetworkV6;
        if (!asIPv6 && destination.Family != AddressFamily.InterNetwork)
            return false;
        int size = TryWriteSockaddr(destination.Buffer.Span, asIPv6);
        if (size == 0)
            return false;
        destination.Size = size;
        return true;
    }

    /// <summary>
    /// Writes a raw Linux sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes, IPv4 as ::ffff:a.b.c.d)
    /// for sendmmsg(2); returns its length, or 0 if it does not fit or an IPv6 address asks for IPv4.
    /// </summary>
    public int TryWriteSockaddr(Span<byte> raw, bool asIPv6)
    {
        if (!asIPv6 && _isIPv6)
            return 0;
        int size = asIPv6 ? 28 : 16;
        if (raw.Length < size)
            return 0;
        // The family is already in place in a SocketAddress's buffer; a raw one needs it.
        BinaryPrimitives.WriteUInt16LittleEndian(raw, asIPv6 ? SockaddrFamilyIPv6 : SockaddrFamilyIPv4);
        BinaryPrimitives.WriteUInt16BigEndian(raw[2..], _port);
        if (asIPv6)
        {
            raw.Slice(4, 4).Clear();
            if (_isIPv6)
            {
                WriteAddressBytes(raw.Slice(8, 16));
            }
            else
            {
                raw.Slice(8, 10).Clear();
                raw[18] = 0xff;
                raw[19] = 0xff;
                WriteAddressBytes(raw.Slice(20, 4));
            }
            raw.Slice(24, 4).Clear();
        }
        else
        {
            WriteAddressBytes(raw.Slice(4, 4));
            raw.Slice(8, 8).Clear();
        }
        return size;
    }

    public SocketAddress ToSocketAddress()
    {
        var socketAddress = new SocketAddress(AddressFamily);
        TryWriteTo(socketAddress);
        return socketAddress;
    }

    public bool Equals(NetAddress other) =>
        _high == other._high && _low == other._low && _port == other._port && _isIPv6 == other._isIPv6;

    public override bool Equals(object? obj) => obj is NetAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low, _port, _isIPv6);

    public static bool operator ==(NetAddress left, NetAddress right) => left.Equals(right);

    public static bool operator !=(NetAddress left, NetAddress right) => !left.Equals(right);

    /// <summary>"192.0.2.1:3478" or "[2001:db8::1]:3478"; allocates, for logs.</summary>
    public override string ToString() => ToIPEndPoint().ToString();
}
