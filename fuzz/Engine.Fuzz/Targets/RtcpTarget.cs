using Engine.Rtp.Rtcp;

namespace Engine.Fuzz.Targets;

/// <summary>RTCP compound packets: the enumerator and every view on every packet (SR, RR, SDES, BYE, NACK, transport-cc, PLI, FIR, REMB, XR).</summary>
public sealed class RtcpTarget : FuzzTarget
{
    public override string Name => "rtcp";
    public override string Description => "RTCP compound: RtcpCompound.TryRead + every view's TryRead and enumerators (transport-cc, NACK, SDES, XR...)";
    public override int MaxLength => 1500;
    public override string[] DictionaryAssemblies => ["Engine.Rtp"];
    public override string[] Tokens => ["\"\\x80\\xc8\"", "\"\\x81\\xc9\"", "\"\\x81\\xca\"", "\"\\x81\\xcb\"", "\"\\x81\\xcd\"", "\"\\x8f\\xcd\"", "\"\\x81\\xce\"", "\"\\x84\\xce\"", "\"\\x8f\\xce\"", "\"\\x80\\xcf\"", "REMB"];

    private long _sink;

    public override bool Run(Span<byte> input)
    {
        long sum = 0;
        // Single packets too: the views must be safe on any packet the packet reader accepts.
        if (RtcpPacketView.TryRead(input, out var single, out int singleLength))
            sum += Visit(single) + singleLength;
        if (!RtcpCompound.TryRead(input, out var compound))
        {
            _sink += sum;
            return false;
        }
        sum += compound.PacketCount + (compound.IsReducedSize ? 1 : 0);
        int count = 0;
        foreach (var packet in compound)
        {
            sum += Visit(packet);
            if (++count > input.Length)
                throw new InvalidOperationException("RTCP compound enumerator yields more packets than bytes");
        }
        _sink += sum;
        return true;
    }

    private static long Visit(RtcpPacketView packet)
    {
        long sum = (long)packet.PacketType + packet.Count + packet.Body.Length + packet.Packet.Length + (packet.HasPadding ? 1 : 0);
        if (SenderReportView.TryRead(packet, out var sr))
        {
            sum += sr.SenderSsrc + (long)sr.NtpTimestamp + sr.RtpTimestamp + sr.PacketCount + sr.OctetCount;
            for (int i = 0; i < sr.ReportCount; i++)
                sum += sr.GetReportBlock(i).GetHashCode();
        }
        if (ReceiverReportView.TryRead(packet, out var rr))
        {
            sum += rr.SenderSsrc;
            for (int i = 0; i < rr.ReportCount; i++)
                sum += rr.GetReportBlock(i).GetHashCode();
        }
        if (SdesView.TryRead(packet, out var sdes))
        {
            sum += sdes.ChunkCount;
            foreach (var item in sdes)
                sum += item.Ssrc + item.Type + item.Text.Length;
            if (sdes.TryGetCname(out uint ssrc, out var cname))
                sum += ssrc + cname.Length;
        }
        if (ByeView.TryRead(packet, out var bye))
        {
            sum += bye.Reason.Length;
            for (int i = 0; i < bye.SourceCount; i++)
                sum += bye.GetSsrc(i);
        }
        if (GenericNackView.TryRead(packet, out var nack))
        {
            sum += nack.SenderSsrc + nack.MediaSsrc;
            for (int i = 0; i < nack.ItemCount; i++)
                sum += nack.GetPacketId(i) + nack.GetBitmaskOfLostPackets(i);
            int lost = 0;
            foreach (ushort seq in nack.LostSequenceNumbers)
            {
                sum += seq;
                if (++lost > 17 * nack.ItemCount)
                    throw new InvalidOperationException("NACK yields more lost packets than its items can hold");
            }
        }
        if (TransportFeedbackView.TryRead(packet, out var twcc))
        {
            sum += twcc.SenderSsrc + twcc.MediaSsrc + twcc.BaseSequenceNumber + twcc.ReferenceTime + twcc.FeedbackPacketCount + twcc.ChunkCount;
            int statuses = 0;
            foreach (var status in twcc)
            {
                sum += status.SequenceNumber + (int)status.Symbol + status.DeltaTicks + status.ArrivalMicros;
                if (++statuses > twcc.PacketStatusCount)
                    throw new InvalidOperationException("transport-cc yields more statuses than its packet status count");
            }
        }
        if (PliView.TryRead(packet, out var pli))
            sum += pli.SenderSsrc + pli.MediaSsrc;
        if (FirView.TryRead(packet, out var fir))
        {
            sum += fir.SenderSsrc;
            for (int i = 0; i < fir.EntryCount; i++)
                sum += fir.GetEntry(i).Ssrc;
        }
        if (RembView.TryRead(packet, out var remb))
        {
            sum += remb.SenderSsrc + (long)remb.BitrateBps;
            for (int i = 0; i < remb.SsrcCount; i++)
                sum += remb.GetSsrc(i);
        }
        if (ExtendedReportView.TryRead(packet, out var xr))
        {
            sum += xr.SenderSsrc;
            if (xr.TryGetRrtr(out ulong ntp))
                sum += (long)ntp;
            int blocks = 0;
            foreach (var dlrr in xr.DlrrSubBlocks)
            {
                sum += dlrr.Ssrc + dlrr.LastReceiverReport + dlrr.DelaySinceLastReceiverReport;
                if (++blocks > packet.Packet.Length)
                    throw new InvalidOperationException("XR yields more DLRR sub-blocks than bytes");
            }
        }
        return sum;
    }
}
