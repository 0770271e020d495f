using System.Buffers.Binary;

namespace Engine.Rtp.Video;

/// <summary>
/// Rebuilds H.264 access units from RTP payloads (RFC 6184, packetization-mode 0 and 1: single NAL
/// unit, STAP-A, FU-A) as AVCC. Loss handling and storage are the <see cref="VideoDepacketizer"/>'s.
/// </summary>
public sealed class H264Depacketizer(int maxFrameBytes = 4 * 1024 * 1024, bool startOnKeyframe = true)
    : VideoDepacketizer(maxFrameBytes, startOnKeyframe)
{
    private int _fuLengthOffset = -1; // where the open FU-A NAL's length goes; -1 when none is open

    /// <summary>Takes the next complete access unit with its NAL walk; the view is valid until the next Push.</summary>
    public bool TryPollFrame(out H264Frame frame)
    {
        if (!Frame.TryPollFrame(out var data, out uint ts, out bool key, out int nals, out _, out _))
        {
            frame = default;
            return false;
        }
        frame = new H264Frame(data, ts, key, nals);
        return true;
    }

    private protected override void CompleteFrame()
    {
        CloseOpenFragment();
        Frame.CompleteFrame();
    }

    private protected override void AppendPayload(ReadOnlySpan<byte> p)
    {
        if (Frame.Length == 0)
            _fuLengthOffset = -1; // a new frame: a fragment left open in the last one died with it
        if ((p[0] & 0x80) != 0)
        {
            Malformed();
            return;
        }
        var type = (H264NalUnitType)(p[0] & 0x1F);
        switch (type)
        {
            case >= H264NalUnitType.Slice and <= (H264NalUnitType)23:
                CloseOpenFragment();
                AppendNal(p);
                break;
            case H264NalUnitType.StapA:
                CloseOpenFragment();
                AppendStapA(p[1..]);
                break;
            case H264NalUnitType.FuA:
                AppendFuA(p);
                break;
            case H264NalUnitType.StapB or H264NalUnitType.Mtap16 or H264NalUnitType.Mtap24 or H264NalUnitType.FuB:
                Frame.CountDrop(VideoDropReason.UnsupportedPacketization);
                Frame.MarkCorrupt();
                break;
            default: // 0, 30, 31: undefined; RFC 6184 §5.2 says ignore
                Frame.CountDrop(VideoDropReason.Malformed);
                break;
        }
    }

    private void Malformed()
    {
        Frame.CountDrop(VideoDropReason.Malformed);
        Frame.MarkCorrupt();
    }

    // RFC 6184 §5.7.1: 16-bit size, then the NAL unit, repeated.
    private void AppendStapA(ReadOnlySpan<byte> p)
    {
        if (p.IsEmpty)
        {
            Malformed();
            return;
        }
        while (!p.IsEmpty)
        {
            if (p.Length < 3)
            {
                Malformed();
                return;
            }
            int size = BinaryPrimitives.ReadUInt16BigEndian(p);
            if (size == 0 || size > p.Length - 2 || (p[2] & 0x80) != 0)
            {
                Malformed();
                return;
            }
            AppendNal(p.Slice(2, size));
            p = p[(2 + size)..];
        }
    }

    // RFC 6184 §5.8: FU indicator (F, NRI, type 28), FU header (S, E, R, original type), fragment.
    private void AppendFuA(ReadOnlySpan<byte> p)
    {
        if (p.Length < 3)
        {
            Malformed();
            return;
        }
        byte fuHeader = p[1];
        bool start = (fuHeader & 0x80) != 0, end = (fuHeader & 0x40) != 0;
        if (start)
        {
            CloseOpenFragment();
            int offset = Frame.Length;
            var head = Frame.Reserve(5);
            if (head.IsEmpty)
                return;
            _fuLengthOffset = offset;
            head[4] = (byte)((p[0] & 0xE0) | (fuHeader & 0x1F));
            if ((fuHeader & 0x1F) == (byte)H264NalUnitType.IdrSlice)
                Frame.IsKeyframe = true;
        }
        else if (_fuLengthOffset < 0)
        {
            Frame.MarkCorrupt(); // its start was lost
            return;
        }
        if (!Frame.Append(p[2..]))
            return;
        if (end)
        {
            BinaryPrimitives.WriteUInt32BigEndian(Frame.Written[_fuLengthOffset..], (uint)(Frame.Length - _fuLengthOffset - 4));
            _fuLengthOffset = -1;
            Frame.UnitCount++;
        }
    }

    private void AppendNal(ReadOnlySpan<byte> nal)
    {
        var dst = Frame.Reserve(4 + nal.Length);
        if (dst.IsEmpty)
            return;
        BinaryPrimitives.WriteUInt32BigEndian(dst, (uint)nal.Length);
        nal.CopyTo(dst[4..]);
        Frame.UnitCount++;
        if ((nal[0] & 0x1F) == (byte)H264NalUnitType.IdrSlice)
            Frame.IsKeyframe = true;
    }

    /// <summary>An FU-A without its end fragment: cut it off, the frame is broken.</summary>
    private void CloseOpenFragment()
    {
        if (_fuLengthOffset < 0)
            return;
        Frame.Truncate(_fuLengthOffset);
        _fuLengthOffset = -1;
        Frame.MarkCorrupt();
    }
}
