using System.Buffers.Binary;

namespace Engine.Fuzz;

/// <summary>
/// Writes the seed corpora under fuzz/corpus/&lt;target&gt;/ from the real captures in
/// tests/fixtures: the UDP datagrams of chromium156-loopback.pcap sorted by RFC 7983 first
/// byte (a few of each shape, so the files stay small), the SDP fixtures, and the default config.
/// Run once by hand (<c>fuzz/run.sh seeds</c>); the results are committed.
/// </summary>
public static class SeedExtractor
{
    private const int PerKind = 12;

    public static int Extract(string fuzzDir)
    {
        string fixtures = Path.GetFullPath(Path.Combine(fuzzDir, "..", "tests", "fixtures"));
        if (!Directory.Exists(fixtures))
        {
            Console.Error.WriteLine("fixtures not found at " + fixtures);
            return 1;
        }
        string corpus = Path.Combine(fuzzDir, "corpus");
        var datagrams = ReadUdpPayloads(Path.Combine(fixtures, "chromium156-loopback.pcap"));
        Console.WriteLine($"pcap: {datagrams.Count} UDP datagrams");

        var picked = new Dictionary<string, Dictionary<string, (int Index, byte[] Data)>>();
        void Keep(string kind, string shape, int index, byte[] data)
        {
            if (!picked.TryGetValue(kind, out var shapes))
                picked[kind] = shapes = new();
            if (shapes.Count < PerKind && !shapes.ContainsKey(shape))
                shapes[shape] = (index, data);
        }
        foreach (var (index, d) in datagrams)
        {
            if (d.Length == 0)
                continue;
            byte b = d[0];
            if (b <= 3 && d.Length >= 20)
                Keep("stun", $"{BinaryPrimitives.ReadUInt16BigEndian(d)}-{d.Length}", index, d);
            else if (b is >= 20 and <= 63)
                Keep("dtls", $"{b}-{(d.Length > 13 ? d[13] : 0)}-{d.Length / 100}", index, d);
            else if (b is >= 128 and <= 191 && d.Length >= 8)
            {
                if (d[1] is >= 192 and <= 223)
                    Keep("rtcp", $"{d[1]}-{d[0] & 0x1f}-{d.Length / 50}", index, d);
                else
                {
                    string shape = $"{d[1] & 0x7f}-{(d[0] >> 4) & 1}-{d[1] >> 7}";
                    Keep("rtp", shape, index, d.Length > 300 ? d[..300] : d);
                    Keep("srtp", shape, index, d.Length > 300 ? d[..300] : d);
                }
            }
        }
        foreach (var (kind, shapes) in picked)
        {
            foreach (var (_, (index, data)) in shapes)
            {
                Write(corpus, kind, $"pcap-{index:D4}", data);
                // The demux gets a few of every kind.
                if (index % 3 == 0 || shapes.Count <= 3)
                    Write(corpus, "demux", $"{kind}-{index:D4}", data);
            }
        }
        foreach (string sdp in Directory.GetFiles(fixtures, "*.sdp"))
            Write(corpus, "sdp", Path.GetFileNameWithoutExtension(sdp), File.ReadAllBytes(sdp));
        Write(corpus, "ini", "default", System.Text.Encoding.UTF8.GetBytes(Engine.Host.DefaultConfig.Text));
        foreach (var (kind, shapes) in picked)
            Console.WriteLine($"{kind}: {shapes.Count} seeds");
        return 0;
    }

    private static void Write(string corpus, string target, string name, byte[] data)
    {
        string dir = Path.Combine(corpus, target);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, name), data);
    }

    /// <summary>Classic pcap (not pcapng), Ethernet or Linux cooked, IPv4/IPv6, UDP only.</summary>
    public static List<(int Index, byte[] Payload)> ReadUdpPayloads(string path)
    {
        byte[] f = File.ReadAllBytes(path);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(f);
        bool le = magic is 0xa1b2c3d4 or 0xa1b23c4d;
        if (!le && magic is not (0xd4c3b2a1 or 0x4d3cb2a1))
            throw new InvalidDataException("not a classic pcap file");
        uint U32(int o) => le ? BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(o)) : BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(o));
        uint linkType = U32(20) & 0xffff;
        var result = new List<(int, byte[])>();
        int off = 24, index = 0;
        for (int guard = 0; off + 16 <= f.Length && guard < 10_000_000; guard++)
        {
            int incl = (int)U32(off + 8);
            off += 16;
            if (incl < 0 || off + incl > f.Length) break;
            var frame = f.AsSpan(off, incl);
            off += incl;
            index++;
            int ipOff = linkType switch { 1 => 14, 113 => 16, 276 => 20, 101 or 12 => 0, 0 or 108 => 4, _ => -1 };
            if (ipOff < 0 || frame.Length <= ipOff) continue;
            var ip = frame[ipOff..];
            int udpOff;
            if (ip[0] >> 4 == 4 && ip.Length >= 20 && ip[9] == 17) udpOff = (ip[0] & 0x0f) * 4;
            else if (ip[0] >> 4 == 6 && ip.Length >= 40 && ip[6] == 17) udpOff = 40;
            else continue;
            if (ip.Length < udpOff + 8) continue;
            var udp = ip[udpOff..];
            int ulen = BinaryPrimitives.ReadUInt16BigEndian(udp[4..]);
            result.Add((index, udp.Slice(8, Math.Max(0, Math.Min(ulen - 8, udp.Length - 8))).ToArray()));
        }
        return result;
    }
}
