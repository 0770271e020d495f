using System.Buffers.Binary;

namespace Engine.Rtp.Video;

/// <summary>
/// Rebuilds VP9 frames from RTP payloads (RFC 9628): strips the payload descriptor, starts at B=1,
/// ends at the marker bit (the end of the whole picture, all spatial layers), and takes the
/// keyframe flag (P=0 on the first layer) and size from the scalability structure. Loss handling
/// and storage are the <see cref="VideoFrameAssembler"/>'s; which pictures still decode after a
/// loss is read from the descriptor (<see cref="Vp9FrameDependencies"/>).
/// </summary>
public sealed class Vp9Depacketizer : VideoDepacketizer
{
    private readonly Vp9FrameDependencies _deps;

    public Vp9Depacketizer(int maxFrameBytes = 4 * 1024 * 1024, bool startOnKeyframe = true)
        : this(maxFrameBytes, startOnKeyframe, new Vp9FrameDependencies())
    {
    }

    private Vp9Depacketizer(int maxFrameBytes, bool startOnKeyframe, Vp9FrameDependencies deps)
        : base(maxFrameBytes, startOnKeyframe, deps) => _deps = deps;

    public override int PacketsMissingBefore(ReadOnlySpan<byte> payload) =>
        payload.IsEmpty || (TryReadDescriptor(payload, out var d) && d.Begin && d.SpatialId == 0) ? 0 : FirstPacketBackfill;

    private protected override void AppendPayload(ReadOnlySpan<byte> payload)
    {
        if (!TryReadDescriptor(payload, out var d) || d.Length >= payload.Length)
        {
            Frame.CountDrop(VideoDropReason.Malformed);
            Frame.MarkCorrupt();
        }
        else
        {
            _deps.OnDescriptor(d.Begin, d.PictureId, d.LongPictureId, d.Flexible, d.InterPicturePredicted, d.Tid, d.SwitchUp,
                d.Tl0PicIdx, payload.Slice(d.PDiffOffset, d.PDiffCount));
            if (Frame.PacketsInFrame == 1)
                Frame.StartSeen = d.Begin && d.SpatialId == 0;
            if (Frame.Length == 0 && !d.Begin)
                Frame.MarkCorrupt(); // the picture's first packet is missing
            if (d.Begin)
            {
                Frame.UnitCount++;
                if (Frame.UnitCount == 1 && d.SpatialId == 0)
                    ReadUncompressedHeader(payload[d.Length..]);
            }
            if (d.Width > 0)
            {
                Frame.Width = d.Width;
                Frame.Height = d.Height;
            }
            Frame.Append(payload[d.Length..]);
        }
    }

    // VP9 bitstream §6.2: frame_marker(2) profile(2, low bit first) [reserved(1) if profile 3]
    // show_existing_frame(1) frame_type(1) show_frame(1) error_resilient(1); a keyframe then has the
    // sync code 49 83 42, the colour config and frame_width_minus_1(16) frame_height_minus_1(16).
    private void ReadUncompressedHeader(ReadOnlySpan<byte> data)
    {
        var r = new BitCursor(data);
        if (r.Read(2) != 2)
            return;
        uint profile = r.Read(1) | (r.Read(1) << 1);
        if (profile == 3)
            r.Read(1);
        if (r.Read(1) == 1 || r.Read(1) != 0) // show_existing_frame, or not a KEY_FRAME
            return;
        r.Read(2);
        if (r.Read(24) != 0x498342)
            return;
        if (profile >= 2)
            r.Read(1); // ten_or_twelve_bit
        uint colorSpace = r.Read(3);
        if (colorSpace != 7) // not CS_RGB
        {
            r.Read(1);
            if (profile is 1 or 3)
                r.Read(3);
        }
        else if (profile is 1 or 3)
        {
            r.Read(1);
        }
        uint w = r.Read(16) + 1, h = r.Read(16) + 1;
        if (r.Overrun)
            return;
        Frame.IsKeyframe = true;
        Frame.Width = (int)w;
        Frame.Height = (int)h;
    }

    private ref struct BitCursor(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _bit;

        public bool Overrun { get; private set; }

        public uint Read(int n)
        {
            uint v = 0;
            for (int i = 0; i < n; i++, _bit++)
            {
                if (_bit >> 3 >= _data.Length)
                {
                    Overrun = true;
                    return 0;
                }
                v = (v << 1) | (uint)((_data[_bit >> 3] >> (7 - (_bit & 7))) & 1);
            }
            return v;
        }
    }

    private struct Descriptor
    {
        public int Length;
        public bool Begin, InterPicturePredicted, Flexible, LongPictureId, SwitchUp;
        public int SpatialId, Width, Height, PictureId, Tid, Tl0PicIdx, PDiffOffset, PDiffCount;
    }

    // RFC 9628 §4.2: I|P|L|F|B|E|V|Z, then PictureID, layer indices, reference diffs, and the
    // scalability structure (§4.2.1), each present by its flag.
    private static bool TryReadDescriptor(ReadOnlySpan<byte> p, out Descriptor d)
    {
        d = default;
        d.PictureId = d.Tid = d.Tl0PicIdx = -1;
        if (p.IsEmpty)
            return false;
        byte h = p[0];
        bool i = (h & 0x80) != 0, l = (h & 0x20) != 0, f = (h & 0x10) != 0, v = (h & 0x02) != 0;
        d.InterPicturePredicted = (h & 0x40) != 0;
        d.Flexible = f;
        d.Begin = (h & 0x08) != 0;
        int o = 1;
        if (i)
        {
            if (p.Length <= o)
                return false;
            d.LongPictureId = (p[o] & 0x80) != 0;
            if (d.LongPictureId)
            {
                if (p.Length <= o + 1)
                    return false;
                d.PictureId = (p[o] & 0x7F) << 8 | p[o + 1];
                o += 2;
            }
            else
            {
                d.PictureId = p[o++] & 0x7F;
            }
        }
        if (l)
        {
            if (p.Length <= o)
                return false;
            d.Tid = p[o] >> 5; // TID(3)|U(1)|SID(3)|D(1)
            d.SwitchUp = (p[o] & 0x10) != 0;
            d.SpatialId = (p[o] >> 1) & 0x07;
            o++;
            if (!f) // non-flexible mode adds TL0PICIDX
            {
                if (p.Length <= o)
                    return false;
                d.Tl0PicIdx = p[o++];
            }
        }
        if (f && d.InterPicturePredicted)
        {
            d.PDiffOffset = o;
            for (int n = 0; n < 3; n++) // up to three P_DIFF bytes, N bit says another follows
            {
                if (p.Length <= o)
                    return false;
                d.PDiffCount++;
                bool more = (p[o++] & 0x01) != 0;
                if (!more)
                    break;
            }
        }
        if (v)
        {
            if (p.Length <= o)
                return false;
            byte ss = p[o++];
            int layers = (ss >> 5) + 1;
            bool y = (ss & 0x10) != 0, g = (ss & 0x08) != 0;
            if (y)
            {
                if (p.Length < o + 4 * layers)
                    return false;
                d.Width = BinaryPrimitives.ReadUInt16BigEndian(p[(o + 4 * (layers - 1))..]);
                d.Height = BinaryPrimitives.ReadUInt16BigEndian(p[(o + 4 * (layers - 1) + 2)..]);
                o += 4 * layers;
            }
            if (g)
            {
                if (p.Length <= o)
                    return false;
                int groups = p[o++];
                for (int k = 0; k < groups; k++)
                {
                    if (p.Length <= o)
                        return false;
                    int refs = (p[o++] >> 2) & 0x03;
                    o += refs;
                }
            }
        }
        d.Length = o;
        return o <= p.Length;
    }
}
