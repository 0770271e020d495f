using Engine.Rtp.Send;

namespace Engine.Gcc;

/// <summary>
/// Measures what a probe cluster got through, from the transport-cc feedback of its own packets:
/// the send rate over its send span and the receive rate over its arrival span (each leaving out
/// the packet at the open end of its interval), and takes the smaller. A receive rate well under the
/// send rate means the probe saturated the path: the result is then a little under the receive rate.
/// A cluster is settled once feedback reaches past its last packet (clusters are sent back to back).
/// </summary>
public sealed class ProbeBitrateEstimator
{
    /// <summary>Clusters remembered at once (a probe's feedback comes within an RTT; a few overlap at most).</summary>
    public const int MaxClusters = 8;

    /// <summary>Enough of the cluster must arrive to mean anything (libwebrtc: 80% of the minimum packets).</summary>
    public const double MinReceivedFraction = 0.8;

    /// <summary>A receive rate under this fraction of the send rate means the link was saturated (libwebrtc: 0.9).</summary>
    public const double SaturatedRatio = 0.9;

    /// <summary>Then the result is this fraction of the receive rate, to leave the queue room to drain (libwebrtc: 0.95).</summary>
    public const double TargetUtilization = 0.95;

    /// <summary>Receiving much faster than sending is a measurement artefact (clock or batching), not capacity (libwebrtc: 2).</summary>
    public const double MaxReceiveToSendRatio = 2.0;

    /// <summary>A span this long is no probe (libwebrtc: 1 s).</summary>
    public const long MaxIntervalMicros = 1_000_000;

    private readonly Cluster[] _clusters = new Cluster[MaxClusters];
    private int _next;
    private long _resultBps = -1;
    private bool _resultSaturated;

    public long ProbesMeasured { get; private set; }

    /// <summary>Clusters whose feedback was too thin or too odd to give a rate.</summary>
    public long ProbesFailed { get; private set; }

    public long LastResultBps { get; private set; } = -1;

    public void OnPacketSent(int clusterId, long transportSequenceNumber, int minPackets)
    {
        int i = Find(clusterId);
        if (i < 0)
        {
            i = _next;
            _next = (_next + 1) % MaxClusters;
            _clusters[i] = new Cluster { Id = clusterId, Active = true, FirstSeq = transportSequenceNumber, MinPackets = minPackets };
        }
        ref var c = ref _clusters[i];
        c.LastSeq = Math.Max(c.LastSeq, transportSequenceNumber);
        c.Sent++;
    }

    /// <summary>Folds one feedback report in; a settled cluster's rate is then available from <see cref="TryTakeResult"/>.</summary>
    public void OnFeedback(ReadOnlySpan<SentPacketResult> results)
    {
        long highest = long.MinValue;
        foreach (ref readonly var r in results)
        {
            highest = Math.Max(highest, r.TransportSequenceNumber);
            for (int i = 0; i < MaxClusters; i++)
            {
                ref var c = ref _clusters[i];
                if (!c.Active || r.TransportSequenceNumber < c.FirstSeq || r.TransportSequenceNumber > c.LastSeq)
                    continue;
                c.Add(in r);
                break;
            }
        }
        for (int i = 0; i < MaxClusters; i++)
        {
            ref var c = ref _clusters[i];
            if (c.Active && highest > c.LastSeq)
                Settle(ref c);
        }
    }

    public bool TryTakeResult(out long bps) => TryTakeResult(out bps, out _);

    /// <summary>The settled result, and whether its cluster saturated the path (received under 90% of its send rate).</summary>
    public bool TryTakeResult(out long bps, out bool saturated)
    {
        bps = _resultBps;
        saturated = _resultSaturated;
        _resultBps = -1;
        _resultSaturated = false;
        return bps > 0;
    }

    private void Settle(ref Cluster c)
    {
        c.Active = false;
        long sendSpan = c.LastSendMicros - c.FirstSendMicros, arrivalSpan = c.LastArrivalMicros - c.FirstArrivalMicros;
        if (c.Received < Math.Max(2, (int)Math.Ceiling(c.MinPackets * MinReceivedFraction))
            || sendSpan <= 0 || arrivalSpan <= 0 || sendSpan > MaxIntervalMicros || arrivalSpan > MaxIntervalMicros)
        {
            ProbesFailed++;
            return;
        }
        double sendBps = (c.Bytes - c.LastSentSize) * 8e6 / sendSpan;
        double receiveBps = (c.Bytes - c.FirstArrivalSize) * 8e6 / arrivalSpan;
        if (receiveBps > MaxReceiveToSendRatio * sendBps)
        {
            ProbesFailed++;
            return;
        }
        double result = Math.Min(sendBps, receiveBps);
        bool saturated = receiveBps < SaturatedRatio * sendBps;
        if (saturated)
            result = TargetUtilization * receiveBps;
        ProbesMeasured++;
        LastResultBps = (long)result;
        if (LastResultBps > _resultBps)
        {
            _resultBps = LastResultBps;
            _resultSaturated = saturated;
        }
    }

    private int Find(int clusterId)
    {
        for (int i = 0; i < MaxClusters; i++)
            if (_clusters[i].Active && _clusters[i].Id == clusterId)
                return i;
        return -1;
    }

    private struct Cluster
    {
        public int Id, MinPackets, Sent, Received;
        public bool Active;
        public long FirstSeq, LastSeq, Bytes;
        public long FirstSendMicros, LastSendMicros, FirstArrivalMicros, LastArrivalMicros;
        public int LastSentSize, FirstArrivalSize;

        public void Add(in SentPacketResult r)
        {
            if (!r.Received)
                return;
            if (Received == 0)
            {
                FirstSendMicros = LastSendMicros = r.SendMicros;
                FirstArrivalMicros = LastArrivalMicros = r.ArrivalMicros;
                LastSentSize = FirstArrivalSize = r.Size;
            }
            else
            {
                if (r.SendMicros < FirstSendMicros) FirstSendMicros = r.SendMicros;
                if (r.SendMicros >= LastSendMicros) { LastSendMicros = r.SendMicros; LastSentSize = r.Size; }
                if (r.ArrivalMicros < FirstArrivalMicros) { FirstArrivalMicros = r.ArrivalMicros; FirstArrivalSize = r.Size; }
                if (r.ArrivalMicros > LastArrivalMicros) LastArrivalMicros = r.ArrivalMicros;
            }
            Received++;
            Bytes += r.Size;
        }
    }
}
