namespace Engine.Host.Tests.Peers;

/// <summary>The H.264 files of tests/Engine.Rtp.Tests/Video/testdata (found above the test binary, as <see cref="Fixtures"/> finds tests/fixtures), split into access units.</summary>
internal static class PeerTestData
{
    public static string PathOf(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "tests", "Engine.Rtp.Tests", "Video", "testdata", name);
            if (File.Exists(candidate) && File.Exists(Path.Combine(d.FullName, "Engine.sln")))
                return candidate;
        }
        throw new FileNotFoundException("testdata not found above " + AppContext.BaseDirectory, name);
    }

    /// <summary>NAL units of an Annex B stream (3- or 4-byte start codes).</summary>
    public static List<byte[]> Nals(byte[] stream)
    {
        var nals = new List<byte[]>();
        int start = -1;
        for (int i = 0; i + 2 < stream.Length; i++)
        {
            if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1)
            {
                if (start >= 0)
                    nals.Add(TrimZeros(stream[start..i]));
                start = i + 3;
                i += 2;
            }
        }
        if (start >= 0 && start < stream.Length)
            nals.Add(stream[start..]);
        return nals;
    }

    private static byte[] TrimZeros(byte[] nal)
    {
        int end = nal.Length;
        while (end > 0 && nal[end - 1] == 0)
            end--;
        return nal[..end];
    }

    /// <summary>Access units: a new one at a non-VCL unit after a slice, or a slice with first_mb_in_slice 0 (H.264 §7.4.1.2.3).</summary>
    public static List<List<byte[]>> AccessUnits(string file)
    {
        var aus = new List<List<byte[]>>();
        List<byte[]>? current = null;
        bool lastWasVcl = false;
        foreach (var nal in Nals(File.ReadAllBytes(PathOf(file))))
        {
            int type = nal[0] & 0x1F;
            bool vcl = type is >= 1 and <= 5;
            if (current == null || (lastWasVcl && (!vcl || (nal[1] & 0x80) != 0)))
                aus.Add(current = []);
            current.Add(nal);
            lastWasVcl = vcl;
        }
        return aus;
    }

    public static byte[] AnnexB(IEnumerable<byte[]> nals)
    {
        using var ms = new MemoryStream();
        foreach (var nal in nals)
        {
            ms.Write([0, 0, 0, 1]);
            ms.Write(nal);
        }
        return ms.ToArray();
    }

    /// <summary>NAL units of an AVCC frame (4-byte lengths), what the receive side delivers.</summary>
    public static List<byte[]> AvccNals(ReadOnlySpan<byte> frame)
    {
        var nals = new List<byte[]>();
        for (int o = 0; o + 4 <= frame.Length;)
        {
            int n = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame[o..]);
            if (n <= 0 || o + 4 + n > frame.Length)
                throw new InvalidDataException("bad AVCC length at " + o);
            nals.Add(frame.Slice(o + 4, n).ToArray());
            o += 4 + n;
        }
        return nals;
    }

    /// <summary>A fake 20 ms CELT Opus packet (TOC config 31, one frame) with seeded bytes.</summary>
    public static byte[] OpusFrame(Random random, int length = 80)
    {
        var b = new byte[length];
        random.NextBytes(b);
        b[0] = 31 << 3;
        return b;
    }
}
