using System.Buffers.Binary;
using System.Globalization;
using Engine.Rtp.Media;

namespace Engine.Codec.Bench;

/// <summary>
/// data/chromium-h264-opus.rtpdump (format in capture.py) and its SDP, cut so that it loops: it
/// starts at the first video packet of a keyframe and ends at the last packet of a whole video
/// frame. Looping adds whole periods to sequence numbers, timestamps and arrival times, so each
/// stream stays continuous and every loop restarts on that keyframe.
/// </summary>
internal sealed class Recording
{
    public readonly record struct Packet(long OffsetMicros, int Track, byte[] Data, ushort Seq, uint Timestamp);

    public required Packet[] Packets { get; init; }
    public required TrackInfo[] Tracks { get; init; }
    /// <summary>One loop, a multiple of 20 ms (whole Opus frames and 90 kHz ticks).</summary>
    public required long PeriodMicros { get; init; }
    public required int[] SeqSpan { get; init; }
    public required uint[] TimestampSpan { get; init; }

    public static string DefaultPath => Path.Combine(FindDataDirectory(), "chromium-h264-opus.rtpdump");

    public int VideoTrack => Array.FindIndex(Tracks, t => t.IsVideo);
    public int AudioTrack => Array.FindIndex(Tracks, t => !t.IsVideo);

    /// <summary>Only the tracks (the SDP): for the engine's child process, which must not hold the packets.</summary>
    public static TrackInfo[] LoadTracks(string? path = null) => ParseSdp(File.ReadAllText(Path.ChangeExtension(path ?? DefaultPath, ".sdp")));

    public static Recording Load(string? path = null)
    {
        path ??= DefaultPath;
        var tracks = LoadTracks(path);
        var raw = new List<(long At, int Track, byte[] Data)>();
        var bytes = File.ReadAllBytes(path);
        for (int o = 0; o + 11 <= bytes.Length;)
        {
            long at = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(o));
            int track = bytes[o + 8];
            int n = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(o + 9));
            o += 11;
            if (o + n > bytes.Length || track >= tracks.Length)
                break;
            raw.Add((at, track, bytes.AsSpan(o, n).ToArray()));
            o += n;
        }
        int video = Array.FindIndex(tracks, t => t.IsVideo);
        // capture.py starts at a keyframe's first packet; end after the last complete video frame.
        int first = raw.FindIndex(p => p.Track == video);
        int last = raw.FindLastIndex(p => p.Track == video && (p.Data[1] & 0x80) != 0);
        if (first < 0 || last <= first)
            throw new InvalidDataException("no whole video frame in " + path);
        raw = raw.GetRange(first, last - first + 1);
        long origin = raw[0].At;
        var packets = raw.Select(p => new Packet(p.At - origin, p.Track, p.Data, Seq(p.Data), Timestamp(p.Data))).ToArray();

        var seqSpan = new int[tracks.Length];
        var tsSpan = new uint[tracks.Length];
        long period = packets[^1].OffsetMicros;
        for (int t = 0; t < tracks.Length; t++)
        {
            var own = packets.Where(p => p.Track == t).ToArray();
            if (own.Length == 0)
                continue;
            seqSpan[t] = (ushort)(Seq(own[^1].Data) - Seq(own[0].Data)) + 1;
            uint ticks = Timestamp(own[^1].Data) - Timestamp(own[0].Data);
            period = Math.Max(period, (long)ticks * 1_000_000 / tracks[t].ClockRate);
        }
        // Room for one more frame, rounded up to 20 ms.
        period = (period + 33_333 + 19_999) / 20_000 * 20_000;
        for (int t = 0; t < tracks.Length; t++)
            tsSpan[t] = (uint)(period * tracks[t].ClockRate / 1_000_000);
        return new Recording { Packets = packets, Tracks = tracks, PeriodMicros = period, SeqSpan = seqSpan, TimestampSpan = tsSpan };
    }

    /// <summary>The packet of loop <paramref name="loop"/> as stream <paramref name="ssrc"/> sends it.</summary>
    public int Write(in Packet p, int loop, uint ssrc, Span<byte> destination)
    {
        p.Data.CopyTo(destination);
        Restamp(p, loop, ssrc, destination);
        return p.Data.Length;
    }

    /// <summary>
    /// Like <see cref="Write"/>, in the recording's own buffer: only the header changes, so the in-process
    /// feeder does not copy payloads (the engine receives and decrypts in place). Valid until the next call for this packet.
    /// </summary>
    public ReadOnlySpan<byte> Stamp(in Packet p, int loop, uint ssrc)
    {
        Restamp(p, loop, ssrc, p.Data);
        return p.Data;
    }

    private void Restamp(in Packet p, int loop, uint ssrc, Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)(p.Seq + loop * SeqSpan[p.Track]));
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], p.Timestamp + (uint)loop * TimestampSpan[p.Track]);
        BinaryPrimitives.WriteUInt32BigEndian(d[8..], ssrc);
    }

    /// <summary>The recording's SDP with other ports (the legacy design's ffmpeg input).</summary>
    public string Sdp(IReadOnlyList<int> ports)
    {
        var inv = CultureInfo.InvariantCulture;
        var lines = new List<string> { "v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=bench", "c=IN IP4 127.0.0.1", "t=0 0" };
        for (int i = 0; i < Tracks.Length; i++)
        {
            var t = Tracks[i];
            lines.Add($"m={(t.IsVideo ? "video" : "audio")} {ports[i].ToString(inv)} RTP/AVP {t.PayloadType.ToString(inv)}");
            lines.Add(t.IsVideo ? $"a=rtpmap:{t.PayloadType} H264/90000" : $"a=rtpmap:{t.PayloadType} opus/48000/2");
            if (t.FormatParameters.Length > 0)
                lines.Add($"a=fmtp:{t.PayloadType} {t.FormatParameters}");
            lines.Add("a=recvonly");
        }
        return string.Join("\r\n", lines) + "\r\n";
    }

    private static ushort Seq(byte[] p) => BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(2));
    private static uint Timestamp(byte[] p) => BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4));

    private static TrackInfo[] ParseSdp(string sdp)
    {
        var tracks = new List<TrackInfo>();
        MediaCodec codec = default;
        int clock = 0, channels = 0, pt = -1;
        string fmtp = "";
        void Flush()
        {
            if (pt >= 0)
                tracks.Add(new TrackInfo(codec, clock, channels, pt, fmtp));
        }
        foreach (var line in sdp.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("m=", StringComparison.Ordinal))
            {
                Flush();
                pt = int.Parse(line.Split(' ')[3], CultureInfo.InvariantCulture);
                fmtp = "";
            }
            else if (line.StartsWith("a=rtpmap:", StringComparison.Ordinal))
            {
                var enc = line.Split(' ')[1].Split('/');
                codec = enc[0].ToUpperInvariant() switch { "H264" => MediaCodec.H264, "OPUS" => MediaCodec.Opus, var c => throw new InvalidDataException("codec " + c) };
                clock = int.Parse(enc[1], CultureInfo.InvariantCulture);
                channels = enc.Length > 2 ? int.Parse(enc[2], CultureInfo.InvariantCulture) : 0;
            }
            else if (line.StartsWith("a=fmtp:", StringComparison.Ordinal))
                fmtp = line[(line.IndexOf(' ') + 1)..];
        }
        Flush();
        return tracks.ToArray();
    }

    public static string FindDataDirectory()
    {
        // bin/Release/net9.0 under the project, or wherever BenchmarkDotNet copied the build.
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "bench", "Engine.Codec.Bench", "data");
            if (Directory.Exists(candidate))
                return candidate;
            candidate = Path.Combine(d.FullName, "data");
            if (File.Exists(Path.Combine(candidate, "chromium-h264-opus.sdp")))
                return candidate;
        }
        throw new FileNotFoundException("bench/Engine.Codec.Bench/data not found above " + AppContext.BaseDirectory + " (run record.sh)");
    }
}
