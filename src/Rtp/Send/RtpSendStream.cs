using System.Buffers.Binary;
using Engine.Rtp.Rtcp;

namespace Engine.Rtp.Send;

/// <summary>
/// The send side of one outgoing stream (one SSRC), before SRTP: sequence numbers, a packet
/// history that answers generic NACK (RFC 4585 §6.2.1) by RTX (RFC 4588) or plain resend, a
/// pacer between writing and leaving, sender reports (RFC 3550 §6.4.1), and what the receiver
/// reports back: report blocks (RTT, loss, jitter) and keyframe requests (PLI, FIR). Packets are
/// written straight into history slots (<see cref="PayloadBuffer"/>, <see cref="CommitPacket"/>)
/// and copied once, into the caller's datagram, when the pacer lets them go
/// (<see cref="TryPollPacket"/>). A forwarded packet stays in its source's
/// <see cref="SharedPacketHistory"/> (<see cref="WriteShared"/>): the history keeps only this
/// stream's header fields and the shared id, and the packet is built from the shared payload when
/// it leaves or is resent. Sans-IO; storage is allocated once, the rest allocates nothing.
/// </summary>
public sealed class RtpSendStream
{
    private const int RtxHeaderLength = 2; // RFC 4588 §4: the original sequence number

    private readonly RtpSendStreamOptions _options;
    private readonly LeavingPacketStamper? _stamper;
    private readonly IRtpPacer _pacer;
    private readonly Random _random;
    private readonly byte[] _headerTemplate; // fixed header + reserved extension elements
    private byte[] _store = []; // own payload slots; a forward-only stream allocates them at its first own packet, if ever
    // One entry per history slot, its fields together: writing and sending a packet touch one cache line, not seven.
    private struct Slot
    {
        public long Seq; // unwrapped sequence number held, -1 when empty
        public long ResentMicros;
        // A packet of a shared history: where its payload is, and what of its header is ours (the rest is the template).
        public SharedPacketHistory? Shared;
        public long SharedId;
        public uint Timestamp;
        public ushort Length; // a packet is at most MaxPacketSize (checked against ushort)
        public bool Marker;
        public byte Padding; // a padding-only packet on the media SSRC (a probe without RTX): its padding octets, else 0
    }

    private readonly Slot[] _slots;
    private readonly int _slotSize;
    private readonly (uint Sender, byte Seq)[] _firSeen = new (uint, byte)[8];
    private int _firSeenCount;
    private long _nextSeq;
    private ushort _nextRtxSeq;
    private uint _lastTimestamp;
    private long _lastTimestampMicros;
    private bool _hasTimestamp;
    private long _nextSenderReportMicros = long.MaxValue;

    /// <param name="stamper">Reserves its extension elements in every packet and stamps them when the packet leaves; null for none.</param>
    /// <param name="pacer">Where packets wait; a <see cref="BurstPacer"/> when null.</param>
    public RtpSendStream(RtpSendStreamOptions options, LeavingPacketStamper? stamper = null, IRtpPacer? pacer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ClockRate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.HistoryPackets, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.PayloadType, (byte)127);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.RtxPayloadType, (byte)127);
        _options = options;
        _stamper = stamper;
        _pacer = pacer ?? new BurstPacer(options.PacerCapacity);
        _random = options.Seed is int seed ? new Random(seed) : new Random();
        _headerTemplate = BuildHeaderTemplate(options, stamper);
        HeaderLength = _headerTemplate.Length;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPacketSize, HeaderLength + 3);
        _slotSize = options.MaxPacketSize;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.MaxPacketSize, ushort.MaxValue);
        _slots = new Slot[options.HistoryPackets];
        if (options.PreallocatePayloads)
            _store = new byte[options.HistoryPackets * _slotSize];
        for (int i = 0; i < _slots.Length; i++)
            _slots[i].Seq = -1;
        _nextSeq = _random.Next(0, 1 << 15); // RFC 3550 §5.1 random start; low half leaves room before the first wrap
        _nextRtxSeq = (ushort)_random.Next(0, 1 << 16);
    }

    public uint Ssrc => _options.Ssrc;
    public uint? RtxSsrc => _options.RtxSsrc;
    public int ClockRate => _options.ClockRate;
    /// <summary>Bytes before the payload in every packet: fixed header plus the reserved extension block.</summary>
    public int HeaderLength { get; }
    /// <summary>Largest payload <see cref="CommitPacket"/> takes.</summary>
    public int MaxPayloadSize => _slotSize - HeaderLength;
    public IRtpPacer Pacer => _pacer;
    /// <summary>The sequence number the next written packet gets.</summary>
    public ushort NextSequenceNumber => (ushort)_nextSeq;

    // RFC 3550 §6.4.1 sender info: first transmissions only (retransmissions are not new data).
    public uint PacketsSent { get; private set; }
    public uint PayloadOctetsSent { get; private set; }
    public long PacketsWritten { get; private set; }
    public long PacketsTooLarge { get; private set; }
    /// <summary>Packets the pacer refused (queue full); they stay in the history and can still be NACKed.</summary>
    public long PacerDrops { get; private set; }
    /// <summary>Queued packets whose history slot (or shared history slot) was reused before they left.</summary>
    public long EvictedBeforeSend { get; private set; }
    /// <summary>Shared packets refused by <see cref="WriteShared"/>: no longer in their shared history.</summary>
    public long SharedMissing { get; private set; }
    /// <summary>Padding-only packets written for bandwidth probes (<see cref="TryWritePadding"/>), on the RTX SSRC or the media SSRC.</summary>
    public long PaddingPacketsSent { get; private set; }
    public long PaddingOctetsSent { get; private set; }

    public long NacksReceived { get; private set; }
    public long RetransmissionsRequested { get; private set; }
    public long Retransmitted { get; private set; }
    /// <summary>NACKed packets not answered because they are gone: out of our history, or (<see cref="SharedOverwritten"/>) out of the shared one.</summary>
    public long MissingFromHistory { get; private set; }
    /// <summary>NACKed packets still in our history whose shared payload was overwritten (counted in <see cref="MissingFromHistory"/> too).</summary>
    public long SharedOverwritten { get; private set; }
    /// <summary>Requests for a packet resent less than the minimum interval ago.</summary>
    public long RetransmissionsSuppressed { get; private set; }

    public long SenderReportsSent { get; private set; }
    public long ReportBlocksReceived { get; private set; }
    /// <summary>The last report block about this SSRC (fraction lost, cumulative lost, jitter, extended highest sequence).</summary>
    public ReportBlock LastReportBlock { get; private set; }
    /// <summary>Round-trip time from the last report block's LSR/DLSR (RFC 3550 §6.4.1); -1 until known.</summary>
    public long RttMicros { get; private set; } = -1;

    public long PlisReceived { get; private set; }
    public long FirsReceived { get; private set; }
    /// <summary>FIR entries repeating a command sequence number already acted on (RFC 5104 §4.3.1.2).</summary>
    public long FirDuplicates { get; private set; }
    /// <summary>Set by PLI or a new FIR; cleared by <see cref="TakeKeyframeRequest"/>.</summary>
    public bool KeyframeRequested { get; private set; }

    /// <summary>The earliest time <see cref="TryPollPacket"/> or <see cref="TryWriteSenderReport"/> has work; long.MaxValue for none.</summary>
    public long NextTimeoutMicros => Math.Min(_pacer.NextReleaseMicros, _nextSenderReportMicros);
    public long NextSenderReportMicros => _nextSenderReportMicros;

    /// <summary>Where the next packet's payload goes: write it here, then <see cref="CommitPacket"/>.</summary>
    public Span<byte> PayloadBuffer => Store.AsSpan(SlotOffset(_nextSeq) + HeaderLength, MaxPayloadSize);

    /// <summary>Bytes this stream's history holds now: own payload slots (when allocated) and per-packet fields.</summary>
    public long HistoryBytes => _store.Length + (long)_slots.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<Slot>();

    private byte[] Store => _store.Length != 0 ? _store : _store = new byte[_slots.Length * _slotSize];

    /// <summary>
    /// Finishes the packet whose payload is in <see cref="PayloadBuffer"/>: gives it the next
    /// sequence number, writes its header, keeps it in the history and queues it in the pacer.
    /// </summary>
    public bool CommitPacket(int payloadLength, uint rtpTimestamp, bool marker, long nowMicros)
    {
        if (payloadLength is < 0 || payloadLength > MaxPayloadSize)
        {
            PacketsTooLarge++;
            return false;
        }
        long seq = _nextSeq;
        int slot = (int)(seq % _slots.Length);
        var packet = Store.AsSpan(slot * _slotSize, _slotSize);
        WriteHeader(packet, seq, rtpTimestamp, marker);
        _slots[slot].Shared = null;
        Commit(slot, payloadLength, rtpTimestamp, marker, nowMicros);
        return true;
    }

    /// <summary>
    /// Queues packet <paramref name="sharedId"/> of <paramref name="shared"/> with this stream's next
    /// sequence number, <paramref name="rtpTimestamp"/> and <paramref name="marker"/>, without copying
    /// it: it is built from the shared payload when it leaves (and when a NACK asks for it again).
    /// False when the packet is no longer there or too large for this stream (counted).
    /// </summary>
    public bool WriteShared(SharedPacketHistory shared, long sharedId, uint rtpTimestamp, bool marker, long nowMicros)
    {
        ArgumentNullException.ThrowIfNull(shared);
        int payloadLength = shared.GetPayloadLength(sharedId);
        if (payloadLength < 0)
        {
            SharedMissing++;
            return false;
        }
        if (payloadLength > MaxPayloadSize)
        {
            PacketsTooLarge++;
            return false;
        }
        int slot = (int)(_nextSeq % _slots.Length);
        ref var entry = ref _slots[slot];
        entry.Shared = shared;
        entry.SharedId = sharedId;
        entry.Timestamp = rtpTimestamp;
        entry.Marker = marker;
        Commit(slot, payloadLength, rtpTimestamp, marker, nowMicros);
        return true;
    }

    private void Commit(int slot, int payloadLength, uint rtpTimestamp, bool marker, long nowMicros)
    {
        long seq = _nextSeq++;
        ref var entry = ref _slots[slot];
        entry.Seq = seq;
        entry.Length = (ushort)(HeaderLength + payloadLength); // at most MaxPacketSize
        entry.ResentMicros = long.MinValue;
        entry.Padding = 0;
        _lastTimestamp = rtpTimestamp;
        _lastTimestampMicros = nowMicros;
        _hasTimestamp = true;
        PacketsWritten++;
        if (!_pacer.TryEnqueue(seq << 1, HeaderLength + payloadLength, nowMicros))
            PacerDrops++;
    }

    private void WriteHeader(Span<byte> packet, long seq, uint rtpTimestamp, bool marker)
    {
        _headerTemplate.CopyTo(packet);
        packet[1] = (byte)((marker ? 0x80 : 0) | _options.PayloadType);
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)seq);
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], rtpTimestamp);
    }

    /// <summary>Copies <paramref name="payload"/> into the next packet and commits it (Opus frames, forwarded payloads).</summary>
    public bool WritePayload(ReadOnlySpan<byte> payload, uint rtpTimestamp, bool marker, long nowMicros)
    {
        if (payload.Length > MaxPayloadSize)
        {
            PacketsTooLarge++;
            return false;
        }
        payload.CopyTo(PayloadBuffer);
        return CommitPacket(payload.Length, rtpTimestamp, marker, nowMicros);
    }

    /// <summary>Packetizes one H.264 access unit (Annex B) into the history; returns the packets written.</summary>
    public int WriteH264(H264Packetizer packetizer, ReadOnlySpan<byte> annexB, uint rtpTimestamp, long nowMicros)
    {
        var cursor = packetizer.Begin(annexB);
        int n = 0;
        while (cursor.TryNext(PayloadBuffer, out int length, out bool marker))
        {
            CommitPacket(length, rtpTimestamp, marker, nowMicros);
            n++;
        }
        return n;
    }

    /// <summary>
    /// Writes the next packet the pacer releases into <paramref name="destination"/> (at least
    /// <see cref="RtpSendStreamOptions.MaxPacketSize"/> + 2 bytes), stamped by the stamper.
    /// False when nothing may leave now or the destination is too small.
    /// </summary>
    public bool TryPollPacket(Span<byte> destination, long nowMicros, out int length)
    {
        length = 0;
        if (destination.Length < _slotSize + RtxHeaderLength)
            return false;
        for (int guard = _pacer.QueuedPackets; guard > 0; guard--)
        {
            if (!_pacer.TryRelease(nowMicros, out long id))
                return false;
            if (TryWriteQueued(id, destination, nowMicros, out length))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Writes the packet behind <paramref name="packetId"/> (an id this stream gave its pacer) into
    /// <paramref name="destination"/>, stamped: for a pacer shared by several streams, which decides
    /// itself which stream's packet leaves. False (counted) when its history slot was reused meanwhile.
    /// </summary>
    public bool TryWriteQueued(long packetId, Span<byte> destination, long nowMicros, out int length)
    {
        length = 0;
        if (destination.Length < _slotSize + RtxHeaderLength)
            return false;
        long seq = packetId >> 1;
        bool retransmission = (packetId & 1) != 0;
        int slot = (int)(seq % _slots.Length);
        bool rtx = retransmission && _options.RtxSsrc.HasValue;
        if (seq < 0 || _slots[slot].Seq != seq || !TryWritePacket(slot, seq, destination, rtx ? HeaderLength + RtxHeaderLength : HeaderLength))
        {
            EvictedBeforeSend++;
            return false;
        }
        int packetLength = _slots[slot].Length;
        if (!retransmission)
        {
            length = packetLength;
            PacketsSent++;
            PayloadOctetsSent += (uint)(packetLength - HeaderLength - _slots[slot].Padding);
            if (_nextSenderReportMicros == long.MaxValue)
                _nextSenderReportMicros = nowMicros; // the first SR right away: receivers need it for lip sync
        }
        else
        {
            length = rtx ? ToRtx(destination, (ushort)seq, _options.RtxSsrc!.Value, packetLength) : packetLength; // else a plain resend
            Retransmitted++;
        }
        _stamper?.OnSend(destination[..length], nowMicros);
        return true;
    }

    /// <summary>
    /// Writes a padding-only packet of <paramref name="paddingOctets"/> (1-255, RFC 3550 §5.1) for a
    /// bandwidth probe, stamped: on the RTX SSRC with the RTX payload type and the RTX sequence (RFC
    /// 4588: no original inside, the receiver discards it after transport-cc counted it), or without
    /// RTX on the media SSRC with the next media sequence number (kept in the history, so a NACK for it
    /// is answered). It leaves at once: the caller's pacer already decided it may.
    /// </summary>
    public bool TryWritePadding(Span<byte> destination, int paddingOctets, long nowMicros, out int length)
    {
        length = 0;
        paddingOctets = Math.Clamp(paddingOctets, 1, 255);
        if (destination.Length < HeaderLength + paddingOctets || !_hasTimestamp)
            return false; // before the first media packet there is no timestamp to give it
        if (_options.RtxSsrc is uint rtxSsrc)
        {
            _headerTemplate.CopyTo(destination);
            destination[1] = _options.RtxPayloadType;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], _nextRtxSeq++);
            BinaryPrimitives.WriteUInt32BigEndian(destination[4..], _lastTimestamp);
            BinaryPrimitives.WriteUInt32BigEndian(destination[8..], rtxSsrc);
            length = WritePadding(destination, HeaderLength, paddingOctets);
        }
        else
        {
            long seq = _nextSeq++;
            int slot = (int)(seq % _slots.Length);
            ref var entry = ref _slots[slot];
            entry.Seq = seq;
            entry.Shared = null;
            entry.Timestamp = _lastTimestamp;
            entry.Marker = false;
            entry.Padding = (byte)paddingOctets;
            entry.Length = (ushort)(HeaderLength + paddingOctets);
            entry.ResentMicros = long.MinValue;
            TryWritePacket(slot, seq, destination, HeaderLength);
            length = entry.Length;
            PacketsSent++;
        }
        PaddingPacketsSent++;
        PaddingOctetsSent += paddingOctets;
        _stamper?.OnSend(destination[..length], nowMicros);
        return true;
    }

    private static int WritePadding(Span<byte> packet, int offset, int paddingOctets)
    {
        packet[0] |= 0x20; // P: the last octet counts the padding
        packet.Slice(offset, paddingOctets - 1).Clear();
        packet[offset + paddingOctets - 1] = (byte)paddingOctets;
        return offset + paddingOctets;
    }

    /// <summary>Our header at the start of <paramref name="destination"/>, the payload at <paramref name="payloadOffset"/>; false when a shared payload is gone.</summary>
    private bool TryWritePacket(int slot, long seq, Span<byte> destination, int payloadOffset)
    {
        if (_slots[slot].Padding != 0)
        {
            WriteHeader(destination, seq, _slots[slot].Timestamp, false);
            WritePadding(destination, payloadOffset, _slots[slot].Padding);
            return true;
        }
        if (_slots[slot].Shared is { } shared)
        {
            if (!shared.TryGetPayload(_slots[slot].SharedId, out var payload))
                return false;
            WriteHeader(destination, seq, _slots[slot].Timestamp, _slots[slot].Marker);
            payload.CopyTo(destination[payloadOffset..]);
            return true;
        }
        var stored = _store.AsSpan(slot * _slotSize, _slots[slot].Length);
        stored[..HeaderLength].CopyTo(destination);
        stored[HeaderLength..].CopyTo(destination[payloadOffset..]);
        return true;
    }

    // RFC 4588 §4: same timestamp and marker, the RTX SSRC, payload type and own sequence
    // number, and the original sequence number before the original payload (already placed after it).
    private int ToRtx(Span<byte> packet, ushort originalSeq, uint rtxSsrc, int packetLength)
    {
        packet[1] = (byte)((packet[1] & 0x80) | _options.RtxPayloadType);
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], _nextRtxSeq++);
        BinaryPrimitives.WriteUInt32BigEndian(packet[8..], rtxSsrc);
        BinaryPrimitives.WriteUInt16BigEndian(packet[HeaderLength..], originalSeq);
        return packetLength + RtxHeaderLength;
    }

    /// <summary>Handles one RTCP compound (after SRTCP): report blocks about us, NACK, PLI, FIR. False when it does not parse.</summary>
    public bool HandleRtcp(ReadOnlySpan<byte> compound, long nowMicros)
    {
        if (!RtcpCompound.TryRead(compound, out var packets))
            return false;
        foreach (var packet in packets)
        {
            if (SenderReportView.TryRead(packet, out var sr))
            {
                for (int i = 0; i < sr.ReportCount; i++)
                    HandleReportBlock(sr.GetReportBlock(i), nowMicros);
            }
            else if (ReceiverReportView.TryRead(packet, out var rr))
            {
                for (int i = 0; i < rr.ReportCount; i++)
                    HandleReportBlock(rr.GetReportBlock(i), nowMicros);
            }
            else if (GenericNackView.TryRead(packet, out var nack))
                HandleNack(nack, nowMicros);
            else if (PliView.TryRead(packet, out var pli))
                HandlePli(pli);
            else if (FirView.TryRead(packet, out var fir))
                HandleFir(fir);
        }
        return true;
    }

    /// <summary>Queues a retransmission of every NACKed packet still in the history and not resent within the minimum interval.</summary>
    public void HandleNack(GenericNackView nack, long nowMicros)
    {
        if (nack.MediaSsrc != Ssrc)
            return;
        NacksReceived++;
        long newest = _nextSeq - 1;
        // Under one RTT: a receiver's retry comes one of its RTTs after the first NACK, and must not be refused as a duplicate.
        long interval = Math.Max(_options.MinResendIntervalMicros, RttMicros * 3 / 4);
        foreach (ushort lost in nack.LostSequenceNumbers)
        {
            RetransmissionsRequested++;
            long seq = newest + (short)(lost - (ushort)newest);
            int slot = seq < 0 ? 0 : (int)(seq % _slots.Length);
            if (seq < 0 || _slots[slot].Seq != seq)
            {
                MissingFromHistory++;
                continue;
            }
            if (_slots[slot].Shared is { } shared && !shared.Contains(_slots[slot].SharedId))
            {
                SharedOverwritten++; // the source's ring moved on: not retransmittable any more
                MissingFromHistory++;
                continue;
            }
            long last = _slots[slot].ResentMicros;
            if (last != long.MinValue && nowMicros - last < interval)
            {
                RetransmissionsSuppressed++;
                continue;
            }
            if (_pacer.TryEnqueue(seq << 1 | 1, _slots[slot].Length + RtxHeaderLength, nowMicros))
                _slots[slot].ResentMicros = nowMicros;
            else
                PacerDrops++;
        }
    }

    /// <summary>RFC 3550 §6.4.1: RTT = now − LSR − DLSR, all in 1/65536 s of the NTP clock.</summary>
    public void HandleReportBlock(in ReportBlock block, long nowMicros)
    {
        if (block.Ssrc != Ssrc)
            return;
        ReportBlocksReceived++;
        LastReportBlock = block;
        if (block.LastSenderReport == 0)
            return; // no SR received yet
        uint now = (uint)(MicrosToNtp(nowMicros + _options.NtpOffsetMicros) >> 16);
        uint rtt = now - block.LastSenderReport - block.DelaySinceLastSenderReport;
        if (rtt < 0x8000_0000u) // a negative result is clock trouble, not a round trip
            RttMicros = (long)rtt * 1_000_000 >> 16;
    }

    public void HandlePli(PliView pli)
    {
        if (pli.MediaSsrc != Ssrc)
            return;
        PlisReceived++;
        KeyframeRequested = true;
    }

    public void HandleFir(FirView fir)
    {
        for (int i = 0; i < fir.EntryCount; i++)
        {
            var entry = fir.GetEntry(i);
            if (entry.Ssrc != Ssrc)
                continue;
            FirsReceived++;
            // RFC 5104 §4.3.1.2: a repeated sequence number from the same sender is the same request.
            int k = 0;
            while (k < _firSeenCount && _firSeen[k].Sender != fir.SenderSsrc)
                k++;
            if (k < _firSeenCount && _firSeen[k].Seq == entry.SequenceNumber)
            {
                FirDuplicates++;
                continue;
            }
            if (k == _firSeenCount)
            {
                if (_firSeenCount < _firSeen.Length)
                    _firSeenCount++;
                else
                    k = _firSeen.Length - 1; // forget the newest slot's sender rather than grow
            }
            _firSeen[k] = (fir.SenderSsrc, entry.SequenceNumber);
            KeyframeRequested = true;
        }
    }

    /// <summary>Reads and clears <see cref="KeyframeRequested"/>.</summary>
    public bool TakeKeyframeRequest()
    {
        bool requested = KeyframeRequested;
        KeyframeRequested = false;
        return requested;
    }

    /// <summary>
    /// Writes an SR when one is due (the first when the first packet has left, then every
    /// 0.5–1.5 × the interval) and schedules the next; false when none is due.
    /// </summary>
    public bool TryWriteSenderReport(Span<byte> destination, long nowMicros, out int length, ReadOnlySpan<ReportBlock> reportBlocks = default)
    {
        length = 0;
        if (nowMicros < _nextSenderReportMicros)
            return false;
        length = WriteSenderReport(destination, nowMicros, reportBlocks);
        if (length == 0)
            return false;
        long mean = _options.SenderReportIntervalMicros;
        _nextSenderReportMicros = nowMicros + mean / 2 + (long)(_random.NextDouble() * mean);
        return true;
    }

    /// <summary>
    /// Writes an SR now (RFC 3550 §6.4.1): the NTP time of <paramref name="nowMicros"/>, the RTP
    /// timestamp of that same instant (the last written timestamp advanced at the clock rate), and the counts.
    /// </summary>
    public int WriteSenderReport(Span<byte> destination, long nowMicros, ReadOnlySpan<ReportBlock> reportBlocks = default)
    {
        uint rtp = _hasTimestamp
            ? _lastTimestamp + (uint)((nowMicros - _lastTimestampMicros) * _options.ClockRate / 1_000_000)
            : 0;
        int n = new SenderReport
        {
            SenderSsrc = Ssrc,
            NtpTimestamp = MicrosToNtp(nowMicros + _options.NtpOffsetMicros),
            RtpTimestamp = rtp,
            PacketCount = PacketsSent,
            OctetCount = PayloadOctetsSent,
            ReportBlocks = reportBlocks,
        }.Write(destination);
        if (n > 0)
            SenderReportsSent++;
        return n;
    }

    /// <summary>Microseconds since the NTP epoch (1900) as 32.32 fixed point.</summary>
    public static ulong MicrosToNtp(long ntpMicros)
    {
        ulong seconds = (ulong)(ntpMicros / 1_000_000);
        ulong fraction = ((ulong)(ntpMicros % 1_000_000) << 32) / 1_000_000;
        return seconds << 32 | fraction;
    }

    private int SlotOffset(long seq) => (int)(seq % _slots.Length) * _slotSize;

    private static byte[] BuildHeaderTemplate(RtpSendStreamOptions options, LeavingPacketStamper? stamper)
    {
        Span<byte> elements = stackalloc byte[16];
        int absId = stamper?.AbsSendTimeId ?? 0, tccId = stamper?.TransportSequenceNumberId ?? 0;
        bool twoByte = absId > 14 || tccId > 14;
        var writer = new RtpHeaderExtensionWriter(elements, twoByte);
        // Placeholders: the stamper fills them when the packet leaves.
        if (absId != 0)
            writer.TryAdd(absId, stackalloc byte[AbsSendTime.SerializedLength]);
        if (tccId != 0)
            writer.TryAdd(tccId, stackalloc byte[TransportSequenceNumber.SerializedLength]);
        var header = new RtpPacket
        {
            PayloadType = options.PayloadType,
            Ssrc = options.Ssrc,
            ExtensionProfile = writer.Written.IsEmpty ? (ushort)0 : writer.Profile,
            ExtensionElements = writer.Written,
        };
        var template = new byte[header.HeaderLength];
        header.Write(template);
        return template;
    }
}
