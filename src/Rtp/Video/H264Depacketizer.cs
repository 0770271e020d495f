using System.Buffers.Binary;

namespace Engine.Rtp.Video;

/// <summary>
/// Rebuilds H.264 access units from RTP payloads (RFC 6184, packetization-mode 0 and 1: single NAL
/// unit, STAP-A, FU-A) as AVCC. Loss handling and storage are the <see cref="VideoDepacketizer"/>'s;
/// which frames still decode after a loss is read from the slice headers (<see cref="H264FrameDependencies"/>).
/// </summary>
public sealed class H264Depacketizer : VideoDepacketizer
{
    private readonly H264FrameDependencies _deps;
    private int _fuLengthOffset = -1; // where the open FU-A NAL's length goes; -1 when none is open

    public H264Depacketizer(int maxFrameBytes = 4 * 1024 * 1024, bool startOnKeyframe = true)
        : this(maxFrameBytes, startOnKeyframe, new H264FrameDependencies())
    {
    }

    private H264Depacketizer(int maxFrameBytes, bool startOnKeyframe, H264FrameDependencies deps)
        : base(maxFrameBytes, startOnKeyframe, deps) => _deps = deps;

    public override int PacketsMissingBefore(ReadOnlySpan<byte> p)
    {
        if (p.IsEmpty)
            return 0;
        ReadOnlySpan<byte> nal;
        int type = p[0] & 0x1F;
        if (type == (int)H264NalUnitType.StapA)
        {
            if (p.Length < 4)
                return 0;
            nal = p[3..];
            type = nal[0] & 0x1F;
        }
        else if (type == (int)H264NalUnitType.FuA)
        {
            if (p.Length < 3)
                return 0;
            if ((p[1] & 0x80) == 0)
                return FirstPacketBackfill;
            type = p[1] & 0x1F;
            nal = p[1..]; // the FU header stands where the NAL header would: the slice header follows
        }
        else
        {
            nal = p;
        }
        switch ((H264NalUnitType)type)
        {
            case H264NalUnitType.Sps or H264NalUnitType.AccessUnitDelimiter:
                return 0;
            case H264NalUnitType.Pps:
                return 1;
            case H264NalUnitType.Sei:
                return 3;
            case H264NalUnitType.IdrSlice or H264NalUnitType.Slice:
                var r = new H264BitReader(nal[1..]);
                if (r.ReadUe() != 0 || r.Overrun)
                    return FirstPacketBackfill;
                // An IDR's SPS and PPS come first (one STAP-A, or a packet each, maybe an SEI or AUD too).
                return type == (int)H264NalUnitType.IdrSlice ? 4 : 0;
            default:
                return 0;
        }
    }

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
        bool begins = false;
        var type = (H264NalUnitType)(p[0] & 0x1F);
        switch (type)
        {
            case >= H264NalUnitType.Slice and <= (H264NalUnitType)23:
                CloseOpenFragment();
                begins = AppendNal(p);
                break;
            case H264NalUnitType.StapA:
                CloseOpenFragment();
                begins = AppendStapA(p[1..]);
                break;
            case H264NalUnitType.FuA:
                begins = AppendFuA(p);
                break;
            case H264NalUnitType.StapB or H264NalUnitType.Mtap16 or H264NalUnitType.Mtap24 or H264NalUnitType.FuB:
                Frame.CountDrop(VideoDropReason.UnsupportedPacketization);
                Frame.MarkCorrupt();
                break;
            default: // 0, 30, 31: undefined; RFC 6184 §5.2 says ignore
                Frame.CountDrop(VideoDropReason.Malformed);
                break;
        }
        if (Frame.PacketsInFrame == 1)
            Frame.StartSeen = begins;
    }

    private void Malformed()
    {
        Frame.CountDrop(VideoDropReason.Malformed);
        Frame.MarkCorrupt();
    }

    // RFC 6184 §5.7.1: 16-bit size, then the NAL unit, repeated. Returns whether the first begins an access unit.
    private bool AppendStapA(ReadOnlySpan<byte> p)
    {
        if (p.IsEmpty)
        {
            Malformed();
            return false;
        }
        bool first = true, begins = false;
        while (!p.IsEmpty)
        {
            if (p.Length < 3)
            {
                Malformed();
                return begins;
            }
            int size = BinaryPrimitives.ReadUInt16BigEndian(p);
            if (size == 0 || size > p.Length - 2 || (p[2] & 0x80) != 0)
            {
                Malformed();
                return begins;
            }
            bool b = AppendNal(p.Slice(2, size));
            if (first)
                begins = b;
            first = false;
            p = p[(2 + size)..];
        }
        return begins;
    }

    // RFC 6184 §5.8: FU indicator (F, NRI, type 28), FU header (S, E, R, original type), fragment.
    private bool AppendFuA(ReadOnlySpan<byte> p)
    {
        if (p.Length < 3)
        {
            Malformed();
            return false;
        }
        byte fuHeader = p[1];
        bool start = (fuHeader & 0x80) != 0, end = (fuHeader & 0x40) != 0;
        byte nalHeader = (byte)((p[0] & 0xE0) | (fuHeader & 0x1F));
        bool vcl = (fuHeader & 0x1F) is >= 1 and <= 5;
        bool begins = false;
        if (start)
        {
            CloseOpenFragment();
            int offset = Frame.Length;
            var head = Frame.Reserve(5);
            if (head.IsEmpty)
                return false;
            _fuLengthOffset = offset;
            head[4] = nalHeader;
            if ((fuHeader & 0x1F) == (byte)H264NalUnitType.IdrSlice)
                Frame.IsKeyframe = true;
            begins = vcl ? (fuHeader & 0x1F) is 1 or 5 ? _deps.OnSliceStart(nalHeader, p[2..]) : Vcl(nalHeader) : BeginsAccessUnit(fuHeader & 0x1F);
        }
        else if (_fuLengthOffset < 0)
        {
            if (vcl)
                _deps.OnVclHeader(nalHeader);
            Frame.MarkCorrupt(); // its start was lost
            return false;
        }
        if (!Frame.Append(p[2..]))
            return begins;
        if (end)
        {
            BinaryPrimitives.WriteUInt32BigEndian(Frame.Written[_fuLengthOffset..], (uint)(Frame.Length - _fuLengthOffset - 4));
            if ((fuHeader & 0x1F) is 7 or 8)
                _deps.OnParameterSet(Frame.Written[(_fuLengthOffset + 4)..]);
            _fuLengthOffset = -1;
            Frame.UnitCount++;
        }
        return begins;
    }

    /// <summary>Appends one whole NAL unit; returns whether it can begin an access unit.</summary>
    private bool AppendNal(ReadOnlySpan<byte> nal)
    {
        var dst = Frame.Reserve(4 + nal.Length);
        if (dst.IsEmpty)
            return false;
        BinaryPrimitives.WriteUInt32BigEndian(dst, (uint)nal.Length);
        nal.CopyTo(dst[4..]);
        Frame.UnitCount++;
        int type = nal[0] & 0x1F;
        if (type == (int)H264NalUnitType.IdrSlice)
            Frame.IsKeyframe = true;
        switch (type)
        {
            case 1 or 5:
                return _deps.OnSliceStart(nal[0], nal[1..]);
            case 2 or 3 or 4:
                return Vcl(nal[0]);
            case 7 or 8:
                _deps.OnParameterSet(nal);
                return true;
            default:
                return BeginsAccessUnit(type);
        }
    }

    private bool Vcl(byte nalHeader)
    {
        _deps.OnVclHeader(nalHeader);
        return false;
    }

    // H.264 §7.4.1.2.3: an access unit's first NAL unit may be an AUD, SPS, PPS or SEI.
    private static bool BeginsAccessUnit(int type) => type is 6 or 7 or 8 or 9;

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
