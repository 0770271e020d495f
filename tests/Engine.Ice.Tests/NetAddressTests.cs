using System.Net;
using System.Net.Sockets;
using Engine.Ice;

namespace Engine.Ice.Tests;

public class NetAddressTests
{
    [Theory]
    [InlineData("192.0.2.1:3478")]
    [InlineData("127.0.0.1:0")]
    [InlineData("[2001:db8::1]:65535")]
    [InlineData("[::ffff:192.0.2.1]:9")]
    public void IPEndPoint_RoundTrips(string text)
    {
        var endPoint = IPEndPoint.Parse(text);
        var address = NetAddress.FromIPEndPoint(endPoint);
        Assert.Equal(endPoint, address.ToIPEndPoint());
        Assert.Equal(endPoint.AddressFamily == AddressFamily.InterNetworkV6, address.IsIPv6);
        Assert.Equal(endPoint.ToString(), address.ToString());
    }

    [Theory]
    [InlineData("192.0.2.1:3478")]
    [InlineData("[2001:db8::1]:40000")]
    public void SocketAddress_RoundTrips(string text)
    {
        var endPoint = IPEndPoint.Parse(text);
        SocketAddress fromRuntime = endPoint.Serialize();
        Assert.True(NetAddress.TryFromSocketAddress(fromRuntime, out var address));
        Assert.Equal(NetAddress.FromIPEndPoint(endPoint), address);

        SocketAddress ours = address.ToSocketAddress();
        Assert.Equal(endPoint, (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(ours));
    }

    [Fact]
    public void DualStackSocketAddress_MapsAndUnmapsIPv4()
    {
        var v4 = NetAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:4242"));
        var dualStack = new SocketAddress(AddressFamily.InterNetworkV6);
        dualStack.Buffer.Span[2..].Fill(0xAA); // stale bytes from an earlier send must not leak through
        Assert.True(v4.TryWriteTo(dualStack));
        Assert.Equal(IPEndPoint.Parse("[::ffff:192.0.2.1]:4242"), new IPEndPoint(IPAddress.IPv6Any, 0).Create(dualStack));
        Assert.True(NetAddress.TryFromSocketAddress(dualStack, out var back));
        Assert.True(back.IsIPv4);
        Assert.Equal(v4, back);

        var v6 = NetAddress.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::1]:1"));
        Assert.False(v6.TryWriteTo(new SocketAddress(AddressFamily.InterNetwork)));
        Assert.False(NetAddress.TryFromSocketAddress(new SocketAddress(AddressFamily.Unix, 110), out _));
    }

    [Fact]
    public void Equality_CoversAddressPortAndFamily()
    {
        var a = NetAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:5000"));
        Assert.Equal(a, NetAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:5000")));
        Assert.Equal(a.GetHashCode(), NetAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:5000")).GetHashCode());
        Assert.NotEqual(a, a.WithPort(5001));
        Assert.NotEqual(a, NetAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.2:5000")));
        var mapped = NetAddress.FromIPEndPoint(IPEndPoint.Parse("[::ffff:192.0.2.1]:5000"));
        Assert.NotEqual(a, mapped);
        Assert.True(mapped.IsIPv4MappedToIPv6);
        Assert.Equal(a, mapped.UnmapIPv4());
        Assert.False(NetAddress.TryCreate(new byte[5], 1, out _));
    }

    [Fact]
    public void SocketAddressConversions_DoNotAllocate()
    {
        var v4 = new SocketAddress(AddressFamily.InterNetwork);
        var v6 = new SocketAddress(AddressFamily.InterNetworkV6);
        var a = NetAddress.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:5000"));
        var b = NetAddress.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::2]:6000"));
        bool ok = a.TryWriteTo(v4) && b.TryWriteTo(v6) && NetAddress.TryFromSocketAddress(v4, out _);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            ok &= a.TryWriteTo(v4) & NetAddress.TryFromSocketAddress(v4, out var ra) && ra == a;
            ok &= b.TryWriteTo(v6) & NetAddress.TryFromSocketAddress(v6, out var rb) && rb == b;
            ok &= ra.GetHashCode() != rb.GetHashCode();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(ok);
    }
}
