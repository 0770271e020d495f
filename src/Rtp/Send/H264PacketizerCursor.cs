using System.Buffers.Binary;

namespace Engine.Rtp.Send;

/// <summary>
/// The payloads of one access unit from <see cref="H264Packetizer.Begin"/>, pulled one at a time
/// into the caller's buffer (for instance the send stream's history slot), so nothing is copied twice.
/// </summary>
public ref struct H264PacketizerCursor
{
    private readonly H264Packetizer _owner;
    private readonly ReadOnlySpan<byte> _au;
    private readonly bool _stapHoldsParameterSets; // the AU's own SPS/PPS went into the STAP-A
    private bool _stapPending;
    private bool _prefixSps; // cached SPS still to send (IDR without its own)
    private bool _prefixPps;
    private int _position; // scan position in _au
    private ReadOnlySpan<byte> _current; // NAL being sent; empty when done
    private int _fragmentOffset; // bytes of _current already sent (FU-A)

    internal H264PacketizerCursor(H264Packetizer owner, ReadOnlySpan<byte> annexB)
    {
        _owner = owner;
        _au = annexB;
        _current = default;
        _fragmentOffset = 0;
        _position = 0;
        owner.AccessUnits++;

        bool idr = false, sps = false, pps = false;
        int parameterSetBytes = 0, p = 0;
        while (H264Packetizer.NextNal(annexB, ref p, out var nal))
        {
            int type = nal[0] & 0x1F;
            if (type == 5)
                idr = true;
            else if (type is 7 or 8)
            {
                if (type == 7) sps = true; else pps = true;
                parameterSetBytes += 2 + nal.Length;
                Cache(owner, type, nal);
            }
        }
        _prefixSps = idr && !sps && owner.SpsLength > 0;
        _prefixPps = idr && !pps && owner.PpsLength > 0;
        if (idr && (_prefixSps || _prefixPps))
            owner.ParameterSetsRepeated++;
        if (idr && ((!sps && owner.SpsLength == 0) || (!pps && owner.PpsLength == 0)))
            owner.IdrWithoutParameterSets++;
        int stapSize = 1 + parameterSetBytes + (_prefixSps ? 2 + owner.SpsLength : 0) + (_prefixPps ? 2 + owner.PpsLength : 0);
        // Parameter sets that do not fit one STAP-A go as their own packets instead.
        if (idr && stapSize > 1 && stapSize <= owner.MaxPayloadSize)
        {
            _stapPending = true;
            _stapHoldsParameterSets = true;
        }
        else
            _stapHoldsParameterSets = false;
        Advance();
    }

    /// <summary>True when every payload of the access unit has been taken.</summary>
    public readonly bool IsDone => !_stapPending && _current.IsEmpty;

    /// <summary>
    /// Writes the next payload into <paramref name="destination"/> (at least the packetizer's
    /// MaxPayloadSize, or what is left); <paramref name="marker"/> is set on the access unit's last
    /// packet (RFC 6184 §5.1). False when done or the destination is too small.
    /// </summary>
    public bool TryNext(Span<byte> destination, out int length, out bool marker)
    {
        length = 0;
        marker = false;
        int max = Math.Min(destination.Length, _owner.MaxPayloadSize);
        if (_stapPending)
        {
            if (!TryWriteStap(destination[..max], out length))
                return false;
            _stapPending = false;
            marker = _current.IsEmpty;
            return true;
        }
        if (_current.IsEmpty)
            return false;
        if (_fragmentOffset == 0 && _current.Length <= max)
        {
            // RFC 6184 §5.6: single NAL unit packet.
            _current.CopyTo(destination);
            length = _current.Length;
            Advance();
            marker = _current.IsEmpty;
            return true;
        }
        if (max < 3)
            return false;
        // RFC 6184 §5.8: FU indicator (F, NRI of the NAL, type 28), FU header (S, E, type), then
        // the NAL's bytes after its header byte.
        byte header = _current[0];
        if (_fragmentOffset == 0)
            _fragmentOffset = 1;
        int chunk = Math.Min(max - 2, _current.Length - _fragmentOffset);
        bool start = _fragmentOffset == 1;
        bool end = _fragmentOffset + chunk == _current.Length;
        destination[0] = (byte)((header & 0xE0) | 28);
        destination[1] = (byte)((start ? 0x80 : 0) | (end ? 0x40 : 0) | (header & 0x1F));
        _current.Slice(_fragmentOffset, chunk).CopyTo(destination[2..]);
        length = 2 + chunk;
        _fragmentOffset += chunk;
        if (end)
        {
            Advance();
            marker = _current.IsEmpty;
        }
        return true;
    }

    private readonly bool TryWriteStap(Span<byte> destination, out int length)
    {
        length = 0;
        // Parameter sets of the AU, and cached ones where the AU lacks them: SPS first, then PPS.
        int o = 1;
        byte nri = 0;
        for (int pass = 7; pass <= 8; pass++)
        {
            if ((pass == 7 && _prefixSps) || (pass == 8 && _prefixPps))
            {
                var cached = pass == 7 ? _owner.SpsCache.AsSpan(0, _owner.SpsLength) : _owner.PpsCache.AsSpan(0, _owner.PpsLength);
                if (!Append(destination, ref o, cached, ref nri))
                    return false;
            }
            int p = 0;
            while (H264Packetizer.NextNal(_au, ref p, out var nal))
                if ((nal[0] & 0x1F) == pass && !Append(destination, ref o, nal, ref nri))
                    return false;
        }
        // RFC 6184 §5.7: the STAP's NRI is the highest NRI of its units, F is 0.
        destination[0] = (byte)(nri | 24);
        length = o;
        return true;
    }

    private static bool Append(Span<byte> destination, ref int o, ReadOnlySpan<byte> nal, ref byte nri)
    {
        if (o + 2 + nal.Length > destination.Length)
            return false;
        BinaryPrimitives.WriteUInt16BigEndian(destination[o..], (ushort)nal.Length);
        nal.CopyTo(destination[(o + 2)..]);
        o += 2 + nal.Length;
        nri = Math.Max(nri, (byte)(nal[0] & 0x60));
        return true;
    }

    /// <summary>Loads the next NAL to send into _current (empty when none is left).</summary>
    private void Advance()
    {
        _fragmentOffset = 0;
        if (!_stapHoldsParameterSets)
        {
            // No STAP-A: cached parameter sets go first, each on its own.
            if (_prefixSps)
            {
                _prefixSps = false;
                _current = _owner.SpsCache.AsSpan(0, _owner.SpsLength);
                return;
            }
            if (_prefixPps)
            {
                _prefixPps = false;
                _current = _owner.PpsCache.AsSpan(0, _owner.PpsLength);
                return;
            }
        }
        int position = _position;
        _current = default;
        while (H264Packetizer.NextNal(_au, ref position, out var nal))
        {
            int type = nal[0] & 0x1F;
            if (H264Packetizer.IsDropped(type) || (_stapHoldsParameterSets && type is 7 or 8))
                continue;
            _current = nal;
            break;
        }
        _position = position;
    }

    private static void Cache(H264Packetizer owner, int type, ReadOnlySpan<byte> nal)
    {
        if (nal.Length > H264Packetizer.MaxParameterSetSize)
        {
            owner.ParameterSetsTooLarge++;
            return;
        }
        if (type == 7)
        {
            nal.CopyTo(owner.SpsCache);
            owner.SpsLength = nal.Length;
        }
        else
        {
            nal.CopyTo(owner.PpsCache);
            owner.PpsLength = nal.Length;
        }
    }
}
