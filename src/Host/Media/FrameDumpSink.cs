using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;
using Engine.Host.Logging;
using Engine.Rtp.Media;

namespace Engine.Host.Media;

/// <summary>
/// Writes a published stream's video as it arrived: H.264 as an Annex B elementary stream
/// (<c>{stream}.h264</c>), VP8/VP9 as IVF (<c>{stream}.ivf</c>); audio frames are counted, not
/// written. For tests and diagnosis, until the RTMP muxer. The media thread only copies the frame
/// into a pooled buffer and queues it; a writer task does the disk I/O, and a full queue drops the
/// frame (counted) rather than block the media path.
/// </summary>
public sealed class FrameDumpSink : IEncodedFrameSink
{
    private readonly Channel<(byte[] Buffer, int Length)> _queue =
        Channel.CreateBounded<(byte[], int)>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly string _directory, _stream;
    private readonly Task _writer;
    private MediaCodec? _videoCodec;
    private uint? _firstTimestamp;
    private long _lastPts = -1;

    public FrameDumpSink(string directory, string stream)
    {
        _directory = directory;
        _stream = stream;
        Directory.CreateDirectory(directory);
        _writer = Task.Run(WriteLoopAsync);
    }

    public long VideoFrames { get; private set; }
    public long AudioFrames { get; private set; }
    public long Dropped { get; private set; }
    public string? Path { get; private set; }
    /// <summary>Completes when everything queued is on disk and the file is closed.</summary>
    public Task Completion => _writer;

    public void OnFrame(int trackIndex, in EncodedFrame frame)
    {
        if (!frame.IsVideo)
        {
            AudioFrames++;
            return;
        }
        if (_videoCodec == null)
        {
            _videoCodec = frame.Codec;
            Path = System.IO.Path.Combine(_directory, _stream + (frame.Codec == MediaCodec.H264 ? ".h264" : ".ivf"));
        }
        else if (_videoCodec != frame.Codec)
        {
            Dropped++;
            return;
        }
        VideoFrames++;
        // H.264: AVCC lengths become start codes in place (same size). IVF: a 12-byte frame header first.
        int length = frame.Codec == MediaCodec.H264 ? frame.Data.Length : 12 + frame.Data.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        if (frame.Codec == MediaCodec.H264)
        {
            frame.Data.CopyTo(buffer);
            for (int o = 0; o + 4 <= length;)
            {
                int nal = (int)BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(o));
                BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(o), 1);
                o += 4 + nal;
            }
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)frame.Data.Length);
            _firstTimestamp ??= frame.RtpTimestamp;
            // 90 kHz ticks; IVF readers require strictly increasing timestamps.
            long pts = Math.Max(frame.RtpTimestamp - _firstTimestamp.Value, _lastPts + 1);
            _lastPts = pts;
            BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(4), pts);
            frame.Data.CopyTo(buffer.AsSpan(12));
        }
        if (!_queue.Writer.TryWrite((buffer, length)))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Dropped++;
        }
    }

    public void OnEnd() => _queue.Writer.TryComplete();

    private async Task WriteLoopAsync()
    {
        FileStream? file = null;
        try
        {
            await foreach (var (buffer, length) in _queue.Reader.ReadAllAsync())
            {
                try
                {
                    if (file == null)
                    {
                        file = new FileStream(Path!, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
                        if (_videoCodec != MediaCodec.H264)
                            await file.WriteAsync(IvfHeader(_videoCodec == MediaCodec.Vp9 ? "VP90"u8 : "VP80"u8));
                    }
                    await file.WriteAsync(buffer.AsMemory(0, length));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (IOException e)
        {
            Log.Error($"frame dump {Path}: {e.Message}");
        }
        finally
        {
            if (file != null)
                await file.DisposeAsync();
        }
    }

    // IVF file header: DKIF, version 0, header size 32, fourcc, size unknown (0), 90 kHz time base, frame count 0.
    private static byte[] IvfHeader(ReadOnlySpan<byte> fourcc)
    {
        var h = new byte[32];
        "DKIF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), 32);
        fourcc.CopyTo(h.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), 90000);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(20), 1);
        return h;
    }
}
