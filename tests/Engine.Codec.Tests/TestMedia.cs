using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using Engine.Codec.Native;

namespace Engine.Codec.Tests;

/// <summary>Test inputs made by encoders we did not write (x264 and libvpx files, libopus through libavcodec).</summary>
internal static unsafe class TestMedia
{
    public static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "testdata", name);

    /// <summary>An Annex B file as AVCC access units (a new unit starts at an AUD/SPS/SEI or a slice with first_mb_in_slice 0 after a slice).</summary>
    public static List<(byte[] Avcc, bool Key)> H264AccessUnits(byte[] annexB)
    {
        var avcc = new byte[AvcConfig.MaxAvccLength(annexB.Length)];
        int n = AvcConfig.AnnexBToAvcc(annexB, avcc);
        var units = new List<(byte[], bool)>();
        var current = new List<byte>();
        bool hasSlice = false, key = false;
        for (int o = 0; o + 4 <= n;)
        {
            int len = (int)BinaryPrimitives.ReadUInt32BigEndian(avcc.AsSpan(o));
            var nal = avcc.AsSpan(o, 4 + len);
            int type = nal[4] & 0x1F;
            bool slice = type is 1 or 5;
            bool firstMb = slice && len > 1 && (nal[5] & 0x80) != 0;
            if (hasSlice && (type is 6 or 7 or 8 or 9 || firstMb))
            {
                units.Add((current.ToArray(), key));
                current.Clear();
                hasSlice = key = false;
            }
            current.AddRange(nal.ToArray());
            hasSlice |= slice;
            key |= type == 5;
            o += 4 + len;
        }
        if (hasSlice)
            units.Add((current.ToArray(), key));
        return units;
    }

    public static List<(byte[] Frame, bool Key)> IvfFrames(byte[] ivf, bool vp9)
    {
        var frames = new List<(byte[], bool)>();
        for (int o = BinaryPrimitives.ReadUInt16LittleEndian(ivf.AsSpan(6)); o + 12 <= ivf.Length;)
        {
            int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(ivf.AsSpan(o));
            var f = ivf.AsSpan(o + 12, size).ToArray();
            // VP8: P bit 0 = key frame. VP9: profile bits then show_existing, frame_type 0 = key (profile 0).
            bool key = vp9 ? (f[0] & 0x04) == 0 : (f[0] & 1) == 0;
            frames.Add((f, key));
            o += 12 + size;
        }
        return frames;
    }

    /// <summary>20 ms stereo Opus packets of a 440 Hz tone, from libopus through libavcodec.</summary>
    public static List<byte[]> OpusPackets(int count)
    {
        FfmpegLibrary.Load();
        using var enc = AvCodecContext.Open(AvCodec.avcodec_find_encoder_by_name("libopus"), "libopus", c =>
        {
            c.SetInt(AvLayout.CtxSampleRate, 48000);
            c.SetInt(AvLayout.CtxSampleFmt, 3); // AV_SAMPLE_FMT_FLT
            c.SetDefaultChannelLayout(2);
            c.SetRational(AvLayout.CtxTimeBase, 1, 48000);
            c.SetBitRate(64000);
        });
        int frameSize = enc.GetInt(AvLayout.CtxFrameSize);
        using var frame = new AvFrame();
        using var packet = new AvPacket();
        var f = frame.Ptr;
        AvLayout.SetI32(f, AvLayout.FrameNbSamples, frameSize);
        AvLayout.SetI32(f, AvLayout.FrameFormat, 3);
        AvLayout.SetI32(f, AvLayout.FrameSampleRate, 48000);
        AvUtil.av_channel_layout_default((byte*)f + AvLayout.FrameChLayout, 2);
        FfmpegLibrary.ThrowIfError(AvUtil.av_frame_get_buffer(f, 0), "buffer");
        var packets = new List<byte[]>();
        long t = 0;
        for (int i = 0; packets.Count < count && i < count * 4; i++)
        {
            AvUtil.av_frame_make_writable(f);
            float* s = (float*)frame.ExtendedData[0];
            for (int k = 0; k < frameSize; k++, t++)
                s[2 * k] = s[2 * k + 1] = 0.3f * MathF.Sin(2 * MathF.PI * 440 * t / 48000f);
            frame.Pts = t - frameSize;
            enc.SendFrame(frame);
            while (enc.ReceivePacket(packet) >= 0)
            {
                packets.Add(packet.Data.ToArray());
                packet.Unref();
            }
        }
        return packets;
    }

    public static (int ExitCode, string Stdout, string Stderr) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(true);
            throw new TimeoutException(file + " did not finish in 60 s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public sealed record ProbedStream(string CodecName, string? Profile, int Width, int Height, int Frames);

    /// <summary>ffprobe's view of a file: each stream's codec, profile, size and decoded frame count.</summary>
    public static List<ProbedStream> Probe(string path)
    {
        var (code, stdout, stderr) = Run("ffprobe", "-v", "error", "-count_frames", "-show_entries",
            "stream=codec_name,profile,width,height,nb_read_frames", "-of", "json", path);
        if (code != 0)
            throw new InvalidOperationException("ffprobe failed: " + stderr);
        using var doc = JsonDocument.Parse(stdout);
        var list = new List<ProbedStream>();
        foreach (var s in doc.RootElement.GetProperty("streams").EnumerateArray())
        {
            list.Add(new ProbedStream(s.GetProperty("codec_name").GetString()!,
                s.TryGetProperty("profile", out var p) ? p.GetString() : null,
                s.TryGetProperty("width", out var w) ? w.GetInt32() : 0,
                s.TryGetProperty("height", out var h) ? h.GetInt32() : 0,
                s.TryGetProperty("nb_read_frames", out var nf) ? int.Parse(nf.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : 0));
        }
        return list;
    }

    /// <summary>What a full decode prints at -v error (nothing when the stream is clean).</summary>
    public static string DecodeErrors(string path) => Run("ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "null", "-").Stderr.Trim();
}
