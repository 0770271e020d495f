using System.Buffers.Binary;

namespace Engine.Tests.Shared;

/// <summary>Finds the repository's tests/fixtures from a test's working directory, or $ENGINE_FIXTURES.</summary>
public static class Fixtures
{
    public static string Dir { get; } = Find();

    public static string PathOf(string name) => System.IO.Path.Combine(Dir, name);

    public static string ReadText(string name) => File.ReadAllText(PathOf(name));

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("ENGINE_FIXTURES") is { Length: > 0 } fromEnv)
            return fromEnv;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var candidate = System.IO.Path.Combine(d.FullName, "tests", "fixtures");
            if (File.Exists(System.IO.Path.Combine(candidate, "README.md")) && File.Exists(System.IO.Path.Combine(d.FullName, "Engine.sln")))
                return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>One UDP datagram out of a capture, with its IPv4/IPv6 endpoints.</summary>
public sealed record UdpDatagram(int Index, double TimeSeconds, System.Net.IPEndPoint Source, System.Net.IPEndPoint Destination, byte[] Payload);

/// <summary>
/// Minimal classic-pcap reader (not pcapng): Ethernet, Linux cooked (SLL/SLL2), raw IP and
/// loopback/null link types; IPv4 (no fragments) and IPv6 (no extension headers); UDP only.
/// </summary>
public static class PcapReader
{
    public static List<UdpDatagram> ReadUdp(string path)
    {
        byte[] f = File.ReadAllBytes(path);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(f);
        bool le = magic is 0xa1b2c3d4 or 0xa1b23c4d;
        bool nanos = magic is 0xa1b23c4d or 0x4d3cb2a1;
        if (!le && magic is not (0xd4c3b2a1 or 0x4d3cb2a1))
            throw new InvalidDataException($"not a classic pcap file (magic {magic:x8})");
        uint U32(int o) => le ? BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(o)) : BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(o));
        uint linkType = U32(20) & 0xffff;
        var result = new List<UdpDatagram>();
        int off = 24, index = 0;
        while (off + 16 <= f.Length)
        {
            double t = U32(off) + U32(off + 4) / (nanos ? 1e9 : 1e6);
            int incl = (int)U32(off + 8);
            off += 16;
            if (off + incl > f.Length) break;
            var frame = f.AsSpan(off, incl);
            off += incl;
            index++;
            int ipOff; int etherType;
            switch (linkType)
            {
                case 1: ipOff = 14; etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]); break; // Ethernet
                case 113: ipOff = 16; etherType = BinaryPrimitives.ReadUInt16BigEndian(frame[14..]); break; // SLL
                case 276: ipOff = 20; etherType = BinaryPrimitives.ReadUInt16BigEndian(frame); break; // SLL2
                case 101: case 12: ipOff = 0; etherType = (frame[0] >> 4) == 6 ? 0x86dd : 0x0800; break; // raw IP
                case 0: case 108: ipOff = 4; etherType = (frame[4] >> 4) == 6 ? 0x86dd : 0x0800; break; // BSD loopback
                default: throw new InvalidDataException($"unsupported pcap link type {linkType}");
            }
            var ip = frame[ipOff..];
            System.Net.IPAddress src, dst; int udpOff;
            if (etherType == 0x0800)
            {
                if (ip[9] != 17) continue;
                udpOff = (ip[0] & 0x0f) * 4;
                src = new System.Net.IPAddress(ip.Slice(12, 4)); dst = new System.Net.IPAddress(ip.Slice(16, 4));
            }
            else if (etherType == 0x86dd)
            {
                if (ip[6] != 17) continue;
                udpOff = 40;
                src = new System.Net.IPAddress(ip.Slice(8, 16)); dst = new System.Net.IPAddress(ip.Slice(24, 16));
            }
            else continue;
            var udp = ip[udpOff..];
            int sport = BinaryPrimitives.ReadUInt16BigEndian(udp), dport = BinaryPrimitives.ReadUInt16BigEndian(udp[2..]);
            int ulen = BinaryPrimitives.ReadUInt16BigEndian(udp[4..]);
            var payload = udp.Slice(8, Math.Min(ulen - 8, udp.Length - 8)).ToArray();
            result.Add(new UdpDatagram(index, t, new(src, sport), new(dst, dport), payload));
        }
        return result;
    }
}
