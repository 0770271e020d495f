using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Rtp.Send;

/// <summary>
/// The last touch before a packet leaves the transport: fills the abs-send-time
/// (webrtc.org/experiments/rtp-hdrext/abs-send-time) and transport-wide sequence number
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2) elements the send stream reserved in
/// the header extension, and records the packet in the <see cref="SendHistory"/>. One per
/// transport: the transport sequence counts across all its streams. Allocates nothing.
/// </summary>
public sealed class LeavingPacketStamper
{
    private ushort _nextTransportSequence;

    /// <param name="absSendTimeId">Extension id from the SDP extmap; 0 when not negotiated.</param>
    /// <param name="transportSequenceNumberId">Extension id; 0 when not negotiated.</param>
    public LeavingPacketStamper(int absSendTimeId, int transportSequenceNumberId, SendHistory? history, ushort firstTransportSequenceNumber = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(absSendTimeId);
        ArgumentOutOfRangeException.ThrowIfNegative(transportSequenceNumberId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(absSendTimeId, 255);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(transportSequenceNumberId, 255);
        AbsSendTimeId = absSendTimeId;
        TransportSequenceNumberId = transportSequenceNumberId;
        History = history;
        _nextTransportSequence = firstTransportSequenceNumber;
    }

    public int AbsSendTimeId { get; }
    public int TransportSequenceNumberId { get; }
    public SendHistory? History { get; }
    public long Stamped { get; private set; }
    /// <summary>The transport-wide number <see cref="OnSend"/> gave last, unwrapped as the history keeps it; -1 when that packet got none.</summary>
    public long LastTransportSequenceNumber { get; private set; } = -1;
    /// <summary>Packets that did not parse, or lacked a configured element: sent unstamped.</summary>
    public long Unstamped { get; private set; }

    /// <summary>
    /// Stamps <paramref name="packet"/> (a whole RTP packet, before SRTP) in place; returns the
    /// transport sequence number given, or -1 when none was. <paramref name="wireSize"/> is what
    /// the history records (the packet plus SRTP/UDP overhead if the caller adds it); 0 means the packet's length.
    /// </summary>
    public int OnSend(Span<byte> packet, long nowMicros, int wireSize = 0)
    {
        LastTransportSequenceNumber = -1;
        if (!RtpPacketView.TryRead(packet, out var view))
        {
            Unstamped++;
            return -1;
        }
        bool ok = true;
        if (AbsSendTimeId != 0)
        {
            if (view.TryGetExtension(AbsSendTimeId, out var data) && data.Length == AbsSendTime.SerializedLength)
                AbsSendTime.FromMicros(nowMicros).Write(packet.Slice(OffsetOf(packet, data), AbsSendTime.SerializedLength));
            else
                ok = false;
        }
        int result = -1;
        if (TransportSequenceNumberId != 0)
        {
            if (view.TryGetExtension(TransportSequenceNumberId, out var data) && data.Length == TransportSequenceNumber.SerializedLength)
            {
                ushort seq = _nextTransportSequence++;
                TransportSequenceNumber.Write(packet.Slice(OffsetOf(packet, data), TransportSequenceNumber.SerializedLength), seq);
                History?.Record(seq, nowMicros, wireSize > 0 ? wireSize : packet.Length);
                result = seq;
                LastTransportSequenceNumber = History?.HighestRecorded ?? seq;
            }
            else
                ok = false;
        }
        if (ok) Stamped++; else Unstamped++;
        return result;
    }

    /// <summary>Where the element's data (a slice of the view over <paramref name="packet"/>) sits in the writable packet.</summary>
    private static int OffsetOf(Span<byte> packet, ReadOnlySpan<byte> data) =>
        (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(packet), ref MemoryMarshal.GetReference(data));
}
