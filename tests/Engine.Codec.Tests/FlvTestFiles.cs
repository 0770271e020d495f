using System.Buffers.Binary;
using System.Globalization;

namespace Engine.Codec.Tests;

/// <summary>Test-side FLV reading (written apart from the engine's demuxer) and ffprobe's packet list of the same file.</summary>
internal static class FlvTestFiles
{
    public sealed record Tag(byte Type, uint Millis, byte[] Body);

    public sealed record Packet(string CodecType, long Pts, long Dts, int Size, bool Key);

    /// <summary>The tags of an FLV file (FLV 10.1 §E.2-E.3): header, then tag + previous tag size.</summary>
    public static List<Tag> ReadTags(string path)
    {
        byte[] f = File.ReadAllBytes(path);
        Assert.Equal("FLV"u8.ToArray(), f[..3]);
        int o = (int)BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(5)) + 4;
        var tags = new List<Tag>();
        while (o + 11 <= f.Length)
        {
            byte type = (byte)(f[o] & 0x1F);
            int size = f[o + 1] << 16 | f[o + 2] << 8 | f[o + 3];
            uint ms = (uint)(f[o + 4] << 16 | f[o + 5] << 8 | f[o + 6]) | (uint)f[o + 7] << 24;
            if (o + 11 + size > f.Length)
                break;
            tags.Add(new Tag(type, ms, f.AsSpan(o + 11, size).ToArray()));
            o += 11 + size + 4;
        }
        return tags;
    }

    /// <summary>ffprobe's packets in file order (FLV's time base is 1/1000 s, so pts/dts are milliseconds).</summary>
    public static List<Packet> Packets(string path)
    {
        var (code, stdout, stderr) = TestMedia.Run("ffprobe", "-v", "error", "-show_entries", "packet=codec_type,pts,dts,size,flags", "-of", "csv=p=0", path);
        Assert.True(code == 0, stderr);
        var list = new List<Packet>();
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var p = line.Split(',');
            list.Add(new Packet(p[0], long.Parse(p[1], CultureInfo.InvariantCulture), long.Parse(p[2], CultureInfo.InvariantCulture),
                int.Parse(p[3], CultureInfo.InvariantCulture), p[4].Contains('K')));
        }
        return list;
    }

    public static string Stream(string path, string selector, string entries)
    {
        var (code, stdout, stderr) = TestMedia.Run("ffprobe", "-v", "error", "-select_streams", selector, "-show_entries", "stream=" + entries, "-of", "csv=p=0", path);
        Assert.True(code == 0, stderr);
        return stdout.Trim();
    }

    /// <summary>An FLV file made by ffmpeg from lavfi sources; video and audio arguments are ffmpeg's own.</summary>
    public static string Make(string dir, string name, double seconds, string[]? video, string[]? audio)
    {
        string path = Path.Combine(dir, name);
        var args = new List<string> { "-v", "error", "-nostdin", "-y" };
        if (video != null)
            args.AddRange(["-f", "lavfi", "-i", video[0]]);
        if (audio != null)
            args.AddRange(["-f", "lavfi", "-i", audio[0]]);
        args.AddRange(["-t", seconds.ToString(CultureInfo.InvariantCulture)]);
        if (video != null)
            args.AddRange(video[1..]);
        else
            args.Add("-vn");
        if (audio != null)
            args.AddRange(audio[1..]);
        else
            args.Add("-an");
        args.AddRange(["-f", "flv", path]);
        var (code, _, err) = TestMedia.Run("ffmpeg", [.. args]);
        Assert.True(code == 0, err);
        return path;
    }

    public static readonly string[] HighWithBFrames = ["testsrc2=size=640x480:rate=30", "-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast", "-bf", "2", "-g", "30", "-pix_fmt", "yuv420p", "-b:v", "400k"];
    public static readonly string[] Baseline320 = ["testsrc=size=320x240:rate=15", "-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-g", "15", "-pix_fmt", "yuv420p"];
    public static string[] Aac(int rate, int channels) => [$"sine=frequency=440:sample_rate={rate}", "-c:a", "aac", "-profile:a", "aac_low", "-ac", channels.ToString(CultureInfo.InvariantCulture), "-b:a", "64k"];
}
